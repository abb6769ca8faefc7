"""Schedules that can never run as written are refused with a located error, not served:
a cron date no month has (serve used to schedule it with no next fire, silently), a grace
under 1s (every slot was recorded as missed), jitter as long as the gap between slots
(every other slot was skipped as an overlap)."""

from __future__ import annotations

import pytest

from runner.playbook import PlaybookError, load_playbook_text
from tests.exactly_once.conftest import playbook_text

STEPS = "steps:\n  - id: look\n    balance: { wallet: treasury }\n"


def problems(schedule: str) -> str:
    try:
        load_playbook_text(playbook_text(f"schedule: {schedule}\n{STEPS}"), "p.yaml")
    except PlaybookError as error:
        return str(error)
    return ""


@pytest.mark.parametrize(
    "line", ["0 0 30 2 *", "0 0 31 2 *", "0 0 31 4 *", "0 0 31 4,6,9,11 *", "0 0 30,31 feb *"]
)
def test_a_cron_date_that_never_comes_is_refused(line: str) -> None:
    text = problems(f'{{ cron: "{line}" }}')
    assert "never fires" in text
    assert text.startswith("p.yaml:")  # located


@pytest.mark.parametrize("line", ["0 0 29 2 *", "0 0 31 * *", "0 0 30 1-12 *", "0 3 * * *"])
def test_rare_but_real_dates_are_fine(line: str) -> None:
    assert problems(f'{{ cron: "{line}" }}') == ""


@pytest.mark.parametrize("grace", ["0s", "500ms"])
def test_a_grace_under_a_second_is_refused(grace: str) -> None:
    assert "grace must be at least 1s" in problems(f"{{ interval: 1m, grace: {grace} }}")


@pytest.mark.parametrize(
    ("schedule", "refused"),
    [
        ("{ interval: 2s, jitter: 2s }", True),
        ("{ interval: 2s, jitter: 1h }", True),
        ("{ interval: 2s, jitter: 1s }", False),
        ('{ cron: "*/5 * * * *", jitter: 5m }', True),
        ('{ cron: "0 9,10 * * *", jitter: 2h }', True),  # the 9:00 to 10:00 gap
        ('{ cron: "0 3 * * *", jitter: 2h }', False),
    ],
)
def test_jitter_must_be_shorter_than_the_gap_between_slots(schedule: str, refused: bool) -> None:
    text = problems(schedule)
    assert ("jitter" in text and "skipped as an overlap" in text) is refused, text


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Factory", "right/UTC"])
def test_a_zone_file_that_is_not_an_iana_zone_name_is_refused(zone: str) -> None:
    """Reproduction: `timezone: localtime` validated and fired by the host's zone (the
    same playbook at other instants on another machine); right/UTC (leap seconds) too."""
    text = problems(f'{{ cron: "0 3 * * *", timezone: {zone} }}')
    assert "schedule.timezone" in text


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Europe/Kyiv", "EST5EDT"])
def test_iana_zone_names_are_fine(zone: str) -> None:
    assert problems(f'{{ cron: "0 12 * * *", timezone: {zone} }}') == ""
