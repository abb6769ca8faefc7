"""Cron lines are read as cron reads them (0 and 7 are Sunday), not with APScheduler 3's
Monday-first weekday numbers; a line whose meaning differs between the two is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runner.playbook.crontab import CrontabError, crontab_fields
from runner.playbook.schedule import Schedule
from runner.serve.triggers import build_trigger, next_slots

START = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday


def _weekdays(cron: str, count: int = 14) -> list[str]:
    slots = next_slots(build_trigger(Schedule(cron=cron)), START, count)
    return sorted({slot.strftime("%a") for slot in slots})


@pytest.mark.parametrize(
    ("cron", "days"),
    [
        ("0 9 * * 1", ["Mon"]),
        ("0 9 * * 0", ["Sun"]),
        ("0 9 * * 7", ["Sun"]),
        ("0 9 * * 1-5", ["Fri", "Mon", "Thu", "Tue", "Wed"]),
        ("0 9 * * mon-fri", ["Fri", "Mon", "Thu", "Tue", "Wed"]),
        ("0 9 * * MON,wed", ["Mon", "Wed"]),
        ("0 9 * * */2", ["Sat", "Sun", "Thu", "Tue"]),  # 0,2,4,6
        ("0 9 * * 1/2", ["Fri", "Mon", "Sun", "Wed"]),  # 1-7/2: 1,3,5,7
        ("0 9 * * 5-7", ["Fri", "Sat", "Sun"]),
        ("0 9 * * 0,6", ["Sat", "Sun"]),
        ("0 9 * * 1-5/2", ["Fri", "Mon", "Wed"]),
    ],
)
def test_weekdays_are_numbered_from_sunday_as_cron_does(cron: str, days: list[str]) -> None:
    assert _weekdays(cron) == days


def test_a_day_of_month_alone_keeps_its_meaning() -> None:
    slots = next_slots(build_trigger(Schedule(cron="0 9 1 * *")), START, 2)
    assert [slot.strftime("%Y-%m-%d") for slot in slots] == ["2026-01-01", "2026-02-01"]


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 9 1 * 1", "either matches"),
        ("0 9 */2 * mon", "either matches"),
        ("0 9 * * 8", "not 0-7"),
        ("0 9 * * 3-1", "runs backwards"),
        ("0 9 * * funday", "not a number or a day name"),
        ("0 9 * * 1/0", "at least 1"),
        ("0 9 * * \u0661", "ASCII"),
        ("\u0661\u0660 9 * * *", "ASCII"),
        ("0 9 * *", "5 fields"),
        ("0 9 * * * *", "5 fields"),
    ],
)
def test_lines_cron_and_apscheduler_would_read_differently_are_refused(
    cron: str, message: str
) -> None:
    with pytest.raises(CrontabError, match=message):
        crontab_fields(cron)
    with pytest.raises(ValueError, match=message):
        Schedule(cron=cron)


def test_other_fields_pass_through_unchanged() -> None:
    assert crontab_fields("*/15 2-4 * jan,jul *") == {
        "minute": "*/15",
        "hour": "2-4",
        "day": "*",
        "month": "jan,jul",
        "day_of_week": "*",
    }
