"""`waiaas-run run --scheduled-for T`: the run id comes from playbook and slot, so an
external scheduler that starts a job twice for one slot gets one run and one send."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.ledger import Ledger
from runner.serve.slots import SlotError, parse_slot, slot_run_id
from tests.exactly_once.processes import Runner, json_events, sandbox_process

PLAYBOOK = """\
steps:
  - id: before
    balance: { wallet: treasury }
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""

SLOT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T03:00:00Z",
        "2026-11-25T03:00:00z",
        "2026-11-25T03:00:00+00:00",
        "2026-11-25T04:00:00+01:00",  # a CronJob with timeZone: Europe/Berlin writes this
        "2026-11-25T03:00:00.400Z",  # a slot is taken to the second
        " 2026-11-25T03:00:00Z\n",
    ],
)
def test_slot_texts_name_the_same_instant(text: str) -> None:
    assert parse_slot(text) == SLOT


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T03:00:00",
        "tomorrow",
        "",
        "2026-13-01T00:00Z",
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC: an OverflowError
        "9999-12-31T23:30:00-01:00",  # after year 9999 in UTC
        "0001-01-01T00:00:00Z",  # its run id would not sort (a 1-digit year)
        "1969-12-31T23:59:59Z",  # before Unix time
    ],
)
def test_slot_text_without_an_instant_is_refused(text: str) -> None:
    with pytest.raises(SlotError):
        parse_slot(text)


def test_run_id_depends_on_playbook_and_slot_only() -> None:
    run_id = slot_run_id("sweep", SLOT)
    assert run_id.startswith("20261125T030000Z-slot-")
    assert slot_run_id("sweep", SLOT.astimezone()) == run_id
    assert slot_run_id("other", SLOT) != run_id
    assert slot_run_id("sweep", SLOT.replace(minute=1)) != run_id


def test_started_twice_for_one_slot_sends_once(tmp_path: Path) -> None:
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, PLAYBOOK, "nightly")
        first = runner.run("--scheduled-for", "2026-11-25T03:00:00Z")
        assert first.returncode == 0, first.stderr
        second = runner.run("--scheduled-for", "2026-11-25T04:00:00+01:00")
        assert second.returncode == 0, second.stderr
        assert daemon.tx_count() == 1
        resumed = [e for e in json_events(second.stdout) if e.get("event") == "step"]
        assert [e["resumed"] for e in resumed] == [True, True]
        run_id = slot_run_id("nightly", SLOT)
        with Ledger(runner.ledger) as ledger:
            record = ledger.run(run_id)
            assert record is not None and record.status == "ok"
            assert record.scheduled_for == SLOT.timestamp()
            assert [send.run_id for send in ledger.sends(playbook="nightly")] == [run_id]
        # another slot is another run
        third = runner.run("--scheduled-for", "2026-11-25T03:15:00Z")
        assert third.returncode == 0, third.stderr
        assert daemon.tx_count() == 2


def test_started_twice_at_once_for_one_slot_sends_once(tmp_path: Path) -> None:
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, PLAYBOOK, "nightly")
        processes = [runner.start("--scheduled-for", "2026-11-25T03:00:00Z") for _ in range(2)]
        for process in processes:
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr
        assert daemon.tx_count() == 1


def test_scheduled_for_is_a_usage_error_with_run_id(tmp_path: Path) -> None:
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, PLAYBOOK, "nightly")
        bad = runner.run("--scheduled-for", "2026-11-25T03:00:00", "--run-id", "x")
        assert bad.returncode == 2
        assert "no time zone" in bad.stderr
        both = runner.run("--scheduled-for", "2026-11-25T03:00:00Z", "--run-id", "x")
        assert both.returncode == 2
