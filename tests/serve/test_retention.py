"""Retention while serving, and the prune horizon for runs of old slots: serve's pass
never holds the lock for long, a missed slot older than the horizon is skipped, and
`run --scheduled-for` of a pruned slot is refused (exit 2) instead of run again."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from runner.cli import main
from runner.ledger import Ledger, StepRecord
from runner.ledger.connection import connect
from runner.ledger.horizon import PruneHorizon
from runner.ledger.retention import Pruner
from runner.serve.recovery import Recovery
from runner.serve.retention import prune_pass, pruned_slots
from runner.serve.slots import slot_run_id
from tests.exactly_once.processes import Runner, sandbox_process

DAY = 86_400.0

PLAYBOOK = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""


def fill_old(path: Path, runs: int, started: float) -> None:
    db = connect(path)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO runs VALUES (?, 'pb', NULL, ?, ?, 'ok', 0)",
        [(f"old-{n:06d}", started + n, started + n) for n in range(runs)],
    )
    db.executemany(
        "INSERT INTO steps VALUES (?, 'a', 'ok', ?, NULL, 0, 0)",
        [(f"old-{n:06d}", "x" * 300) for n in range(runs)],
    )
    db.execute("COMMIT")
    db.close()


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def test_a_retention_pass_beside_live_runs(tmp_path: Path) -> None:
    """A pass removes what is old in batches while another connection keeps recording
    runs; none of those waits long, and the loop is never blocked by a batch."""
    path = tmp_path / "ledger.sqlite3"
    now = time.time()
    fill_old(path, 6000, now - 40 * DAY)
    waits: list[float] = []
    stop = threading.Event()

    def live_runs() -> None:
        with Ledger(path) as ledger:
            number = 0
            while not stop.is_set():
                began = time.perf_counter()
                ledger.begin_run("live", f"live-{number}")
                ledger.save_steps([StepRecord("a", "ok", None, None, 0, 0)], f"live-{number}")
                waits.append(time.perf_counter() - began)
                number += 1

    ticks = 0

    async def pass_and_ticks() -> float:
        nonlocal ticks

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        ticker = asyncio.create_task(tick())
        report = await prune_pass(path, 30 * DAY, clock=time.time, sleep=no_sleep, batch=500)
        ticker.cancel()
        assert report.removed["runs"] == 5999 and report.kept == {"newest": 1}
        return report.longest_lock

    writer = threading.Thread(target=live_runs)
    writer.start()
    try:
        longest_lock = asyncio.run(pass_and_ticks())
    finally:
        stop.set()
        writer.join()
    assert longest_lock < 2.0  # a batch of 500 runs: milliseconds, generous for a busy CI
    assert waits and max(waits) < 5.0
    assert ticks > 1  # the event loop kept turning during the pass
    with Ledger(path) as ledger:
        horizon = ledger.horizon()
        assert horizon is not None and horizon.runs == 5999
        assert len(ledger.runs("live", limit=100_000)) == len(waits)


def test_missed_slots_older_than_the_horizon_are_taken_out() -> None:
    slot = datetime(2026, 11, 1, tzinfo=UTC)
    recovery = Recovery(
        resume=[slot - timedelta(hours=3)],
        due=[slot - timedelta(hours=2), slot + timedelta(hours=1)],
        catch_up=slot - timedelta(hours=1),
    )
    horizon = PruneHorizon(slot.timestamp(), slot.timestamp(), 1, 1, 1, 1)
    old = pruned_slots(recovery, horizon)
    assert old == [slot - timedelta(hours=2), slot - timedelta(hours=1)]
    assert recovery.due == [slot + timedelta(hours=1)] and recovery.catch_up is None
    assert recovery.resume == [slot - timedelta(hours=3)]  # its record is there: continued
    assert pruned_slots(Recovery(due=[slot]), None) == []


def test_scheduled_for_a_pruned_slot_is_refused(tmp_path: Path) -> None:
    """Exit 2: the invocation asks for what the ledger can no longer vouch for (like
    --resume without an unfinished run); nothing was started or sent."""
    first, second = "2026-11-25T03:00:00Z", "2026-11-25T03:15:00Z"
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, PLAYBOOK, "nightly")
        assert runner.run("--scheduled-for", first).returncode == 0
        assert runner.run("--scheduled-for", second).returncode == 0
        assert daemon.tx_count() == 2
        with Ledger(runner.ledger) as ledger:  # confirmed since (a wait: step records it)
            for send in ledger.sends(playbook="nightly"):
                assert send.tx_id is not None
                ledger.record_tx_status(send.tx_id, "CONFIRMED")
        # two days later, everything up to a second from now is pruned
        later = time.time() + 2 * DAY
        db = connect(runner.ledger)
        report = Pruner(db, time.time() + 1, now=later).run()
        db.close()
        assert report.removed["runs"] == 1 and report.kept == {"newest": 1}
        refused = runner.run("--scheduled-for", first)
        assert refused.returncode == 2, refused.stderr
        assert "older than the ledger's prune horizon" in refused.stderr
        assert "not run again" in refused.stderr
        never_ran = runner.run("--scheduled-for", "2026-11-25T03:30:00Z")
        assert never_ran.returncode == 2 and "prune horizon" in never_ran.stderr
        continued = runner.run("--scheduled-for", second)  # its record is kept: a resume
        assert continued.returncode == 0, continued.stderr
        assert runner.run().returncode == 0  # a new run is not concerned
        assert daemon.tx_count() == 3
    with Ledger(runner.ledger) as ledger:
        assert ledger.run(slot_run_id("nightly", datetime(2026, 11, 25, 3, tzinfo=UTC))) is None


def test_serve_help_shows_the_retention_default() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    text = " ".join(result.stdout.split())
    assert result.exit_code == 0 and "--retain" in text and "else 30d" in text


def test_serve_refuses_a_bad_retention(tmp_path: Path) -> None:
    playbook = tmp_path / "p.yaml"
    playbook.write_text(PLAYBOOK)
    for bad in ("0s", "-1d", "abc", "400d"):
        result = CliRunner().invoke(main, ["serve", "--retain", bad, str(playbook)])
        assert result.exit_code == 2 and "--retain" in result.stderr, result.stderr
    config = tmp_path / "config.yaml"
    config.write_text("retain: 0s\n")
    result = CliRunner().invoke(main, ["serve", "--config", str(config), str(playbook)])
    assert result.exit_code == 2 and "config.yaml:1" in result.stderr, result.stderr
