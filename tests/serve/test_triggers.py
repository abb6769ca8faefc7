"""Slots from triggers: DST fall-back once, anchored intervals, jitter, DST warnings.
APScheduler's triggers are driven directly with an injected ``now``."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runner.ledger.slots import SlotRecord
from runner.playbook.schedule import Schedule
from runner.serve.recovery import MISSED_LIMIT, plan_recovery
from runner.serve.triggers import (
    build_trigger,
    dst_warnings,
    fires_per_minute,
    jitter_delay,
    next_slots,
    slots_between,
)

HELSINKI = "Europe/Helsinki"  # falls back 2026-10-25 04:00 EEST -> 03:00 EET (01:00Z)


def _fires(cron: str, start: datetime, count: int) -> list[datetime]:
    trigger = build_trigger(Schedule(cron=cron, timezone=HELSINKI))
    fires: list[datetime] = []
    previous, now = None, start
    for _ in range(count):  # as APScheduler's scheduler asks: previous fire, and now
        fire = trigger.get_next_fire_time(previous, now)
        fires.append(fire.astimezone(UTC))
        previous, now = fire, fire
    return fires


def test_a_fixed_cron_time_in_the_fall_back_hour_fires_once() -> None:
    fires = _fires("30 3 * * *", datetime(2026, 10, 24, 1, 0, tzinfo=UTC), 3)
    assert fires == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 03:30 EEST, the first occurrence
        datetime(2026, 10, 26, 1, 30, tzinfo=UTC),  # the next day, 03:30 EET
        datetime(2026, 10, 27, 1, 30, tzinfo=UTC),
    ]


def test_fixed_hours_with_minute_steps_fire_each_wall_time_once() -> None:
    fires = _fires("*/30 3 * * *", datetime(2026, 10, 24, 22, 0, tzinfo=UTC), 3)
    assert fires == [
        datetime(2026, 10, 25, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 26, 1, 0, tzinfo=UTC),
    ]


def test_every_n_minutes_runs_through_the_repeated_hour() -> None:
    trigger = build_trigger(Schedule(cron="*/30 * * * *", timezone=HELSINKI))
    slots = slots_between(
        trigger,
        datetime(2026, 10, 24, 23, 59, tzinfo=UTC),
        datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
    )
    assert len(slots) == len(set(slots)) == 5  # 00:00Z .. 02:00Z: one every half hour
    assert all(b - a == timedelta(minutes=30) for a, b in itertools.pairwise(slots))


def test_interval_slots_are_anchored_whatever_the_start() -> None:
    trigger = build_trigger(Schedule(interval="15m"))
    start = datetime(2026, 11, 25, 3, 7, 41, tzinfo=UTC)
    assert next_slots(trigger, start, 2) == [
        datetime(2026, 11, 25, 3, 15, tzinfo=UTC),
        datetime(2026, 11, 25, 3, 30, tzinfo=UTC),
    ]
    assert fires_per_minute(Schedule(interval="30s"), start) == 2


def test_jitter_is_a_delay_derived_from_the_nominal_slot() -> None:
    schedule = Schedule(cron="0 * * * *", jitter="5m")
    slot = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    delays = {jitter_delay(schedule, f"book-{n}", slot) for n in range(50)}
    assert all(0 <= delay < 300 for delay in delays) and len(delays) == 50
    assert jitter_delay(schedule, "book-1", slot) == jitter_delay(schedule, "book-1", slot)
    # the schedule itself never drifts: the nominal slots stay on the hour
    slots = next_slots(build_trigger(schedule), slot, 100)
    assert all(s.minute == 0 and s.second == 0 for s in slots)


def test_cron_times_in_a_dst_gap_or_overlap_are_warned_about() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    warnings = dst_warnings(Schedule(cron="30 3 * * *", timezone=HELSINKI), start)
    assert len(warnings) == 2
    assert "2026-03-29" in warnings[0] and "DST gap" in warnings[0]
    assert "2026-10-25" in warnings[1] and "runs it once" in warnings[1]
    assert dst_warnings(Schedule(cron="30 12 * * *", timezone=HELSINKI), start) == []
    assert dst_warnings(Schedule(cron="*/15 * * * *", timezone=HELSINKI), start) == []
    assert dst_warnings(Schedule(cron="30 3 * * *"), start) == []  # UTC has no DST


def _offset_changes(zone: str, start: datetime, hours: int) -> int:
    """Brute force: every hour of the span, the zone's offset compared with the last."""
    from zoneinfo import ZoneInfo

    offsets = [
        (start + timedelta(hours=h)).astimezone(ZoneInfo(zone)).utcoffset()
        for h in range(hours + 1)
    ]
    return sum(1 for a, b in itertools.pairwise(offsets) if a != b)


def test_dst_warnings_find_every_transition_of_zones_with_odd_rules() -> None:
    """The transitions are found day by day, then hour by hour: zones whose DST moves
    by half an hour, by date rules of their own or at midnight lose none of them."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for zone in ("Australia/Lord_Howe", "America/Santiago", "America/Havana", "Europe/Dublin"):
        fixed_hours = [f"{minute} {hour} * * *" for hour in range(24) for minute in (0, 30)]
        warned = sum(len(dst_warnings(Schedule(cron=c, timezone=zone), start)) for c in fixed_hours)
        changes = _offset_changes(zone, start, 370 * 24)
        assert changes == 2, zone
        assert warned >= changes, (zone, warned)  # each change hits at least one slot
    # the same line, zone and hour twice: the second answer is the first one, not shared
    first = dst_warnings(Schedule(cron="30 3 * * *", timezone=HELSINKI), start)
    first.append("edited by a caller")
    assert len(dst_warnings(Schedule(cron="30 3 * * *", timezone=HELSINKI), start)) == 2


def test_validate_warns_about_a_cron_time_in_a_dst_overlap(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from runner.cli import main
    from tests.exactly_once.conftest import playbook_text

    path = tmp_path / "nightly.yaml"
    body = "schedule: { cron: '30 3 * * *', timezone: Europe/Helsinki }\nsteps:\n"
    path.write_text(playbook_text(body + "  - balance: { wallet: treasury }\n", "nightly"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: schedule: cron '30 3 * * *'" in result.output
    assert "DST overlap" in result.output


@pytest.mark.parametrize(
    ("schedule", "gap"),
    [
        ({"interval": "1s", "catchup_window": "366d"}, 1),
        ({"cron": "* * * * *", "catchup_window": "366d"}, 60),
    ],
)
def test_a_year_of_downtime_of_a_frequent_schedule_is_planned_quickly(
    schedule: dict[str, str], gap: int
) -> None:
    """Reproduction: the last slot a year ago, `interval: 1s` with `catchup_window: 366d`:
    start-up walked (and kept) 31 million slots before serving, minutes and gigabytes; an
    every-minute cron took 13 s per playbook. Now the walk is bounded by the limit of
    slots recorded one by one, and the rest are summed up (`older`)."""
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    plan = Schedule.model_validate(schedule | {"missed": "skip"})
    latest = SlotRecord("p", (now - timedelta(days=400)).timestamp(), None, "ok", None, None, 0, 0)
    began = time.perf_counter()
    recovery = plan_recovery(plan, build_trigger(plan), latest, None, now)
    assert time.perf_counter() - began < 2.0
    assert len(recovery.skipped) + len(recovery.due) == MISSED_LIMIT
    assert recovery.older  # the rest are summed up in the log
    newest = (recovery.due or recovery.skipped)[-1]
    assert now - newest <= timedelta(seconds=gap)
    assert all(
        later - earlier == timedelta(seconds=gap)
        for earlier, later in itertools.pairwise(recovery.skipped)
    )


def test_a_sparse_cron_keeps_every_missed_slot_of_its_window() -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    plan = Schedule.model_validate({"cron": "0 3 * * *", "catchup_window": "366d"})
    latest = SlotRecord("p", (now - timedelta(days=30)).timestamp(), None, "ok", None, None, 0, 0)
    recovery = plan_recovery(plan, build_trigger(plan), latest, None, now)
    assert len(recovery.skipped) == 30 and not recovery.older


def test_slots_between_of_a_yearly_schedule() -> None:
    """Reproduction: serve's start-up with a yearly cron and a recorded slot died with
    "ValueError: year -2971 is out of range" (the walk's start, 5,000 gaps back)."""
    trigger = build_trigger(Schedule(cron="0 0 1 1 *"))
    slots = slots_between(
        trigger, datetime(2024, 6, 1, tzinfo=UTC), datetime(2026, 12, 6, tzinfo=UTC), 5_000
    )
    assert slots == [datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)]
