"""Serve in-process against the sandbox: on time, no overlap, missed slots, daemon down."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from runner.ledger import Ledger
from runner.ledger.connection import connect
from runner.ledger.horizon import advance_horizon
from runner.ledger.slots import SlotLog
from runner.sandbox import Sandbox
from runner.serve.slots import slot_run_id
from tests.exactly_once.conftest import fast_fixture
from tests.serve.conftest import SEND, ServeHarness, until, write_playbook


async def test_playbooks_fire_on_time_each_slot_once(harness: ServeHarness) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1s }")
    write_playbook(harness.books, "sender", "{ interval: 1s }", SEND)
    await harness.start()
    await until(lambda: sum(s.outcome == "ok" for s in harness.slots("sender")) >= 3, "3 runs")
    assert await harness.stop() == 0
    for name in ("reader", "sender"):
        slots = [s for s in harness.slots(name) if s.outcome == "ok"]
        assert len(slots) >= 3
        assert all(s.lateness is not None and s.lateness < 0.5 for s in slots), slots
        gaps = {b.slot - a.slot for a, b in itertools.pairwise(slots)}
        assert gaps == {1.0}  # every second, none twice, none left out
        assert all(s.run_id == slot_run_id(name, _utc(s.slot)) for s in slots)
    with Ledger(harness.state) as ledger:
        sends = ledger.sends(playbook="sender")
    ran = [s for s in harness.slots("sender") if s.outcome == "ok"]
    assert len(sends) == len(ran) == harness.sandbox.transaction_count()


async def test_a_slot_during_a_run_is_skipped_and_recorded(harness: ServeHarness) -> None:
    write_playbook(harness.books, "slow", "{ interval: 1s }")
    harness.sandbox.add_fault("GET /v1/wallet/balance latency=2.2 times=1")
    await harness.start()
    await until(lambda: any(s.outcome == "skipped" for s in harness.slots("slow")), "a skip")
    await until(lambda: sum(s.outcome == "ok" for s in harness.slots("slow")) >= 2, "2 runs")
    await harness.stop()
    slots = harness.slots("slow")
    skipped = [s for s in slots if s.outcome == "skipped"]
    assert skipped and all(s.reason and s.reason.startswith("overlap: ") for s in skipped)
    with Ledger(harness.state) as ledger:
        runs = sorted(ledger.runs("slow"), key=lambda r: r.started_at)
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None and earlier.finished_at <= later.started_at


async def test_overlap_queue_runs_one_slot_after_the_slow_run(harness: ServeHarness) -> None:
    write_playbook(harness.books, "queued", "{ interval: 1s, overlap: queue }")
    harness.sandbox.add_fault("GET /v1/wallet/balance latency=2.5 times=1")
    await harness.start()
    await until(lambda: sum(s.outcome == "ok" for s in harness.slots("queued")) >= 2, "2 runs")
    await harness.stop()
    slots = harness.slots("queued")
    first_ok = next(s for s in slots if s.outcome == "ok")
    queued = next(s for s in slots if s.outcome == "ok" and s.slot > first_ok.slot)
    assert queued.slot == first_ok.slot + 1  # the next slot waited instead of being skipped
    assert queued.lateness is not None and queued.lateness > 1.0
    assert any(s.outcome == "skipped" for s in slots)  # the queue holds one, not more


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _seed_downtime(harness: ServeHarness, name: str) -> list[float]:
    """An ok slot three hours ago: the hourly slots since then were missed."""
    now = time.time()
    hour = now - now % 3600
    last = hour - 3 * 3600
    log = SlotLog(harness.state)
    log.started(name, last, slot_run_id(name, _utc(last)), 0.0)
    log.finished(name, last, "ok", None)
    log.close()
    return [last + 3600 * n for n in (1, 2, 3)]


@pytest.mark.parametrize("policy", ["skip", "run_once"])
async def test_missed_slots_after_downtime(harness: ServeHarness, policy: str) -> None:
    write_playbook(harness.books, "hourly", f"{{ interval: 1h, missed: {policy}, grace: 1s }}")
    missed = _seed_downtime(harness, "hourly")
    await harness.start()
    if policy == "run_once":
        await until(lambda: harness.slots("hourly")[-1].outcome == "ok", "the catch-up run")
    await harness.stop()
    recorded = {s.slot: s for s in harness.slots("hourly")}
    assert set(recorded) == {missed[0] - 3600, *missed}
    if policy == "skip":
        assert [recorded[s].outcome for s in missed] == ["skipped"] * 3
        assert all("serve was not running" in (recorded[s].reason or "") for s in missed)
    else:  # the newest missed slot runs once, under its own run id; the older are skipped
        assert [recorded[s].outcome for s in missed] == ["skipped", "skipped", "ok"]
        with Ledger(harness.state) as ledger:
            run = ledger.run(slot_run_id("hourly", _utc(missed[-1])))
        assert run is not None and run.status == "ok" and run.scheduled_for == missed[-1]


async def test_daemon_down_runs_fail_recorded_and_serve_recovers(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.sqlite3"
    sandbox = await Sandbox(port=0, state=state, fixture=fast_fixture()).start()
    port = int(sandbox.url.rsplit(":", 1)[1])
    harness = ServeHarness(tmp_path, sandbox)
    write_playbook(harness.books, "watch", "{ interval: 1s }")
    try:
        await harness.start()
        await until(lambda: any(s.outcome == "ok" for s in harness.slots("watch")), "a run")
        await sandbox.close()
        await until(
            lambda: sum(s.outcome == "failed" for s in harness.slots("watch")) >= 2, "failures"
        )
        sandbox = await Sandbox(port=port, state=state, fixture=fast_fixture()).start()
        outage_end = time.time()
        await until(
            lambda: any(s.outcome == "ok" and s.slot > outage_end for s in harness.slots("watch")),
            "recovery",
        )
        assert harness.serve is not None and not harness.serve.stopping
        assert await harness.stop() == 0
    finally:
        if harness.serve is not None:
            await harness.stop()
        await sandbox.close()
    failed = [s for s in harness.slots("watch") if s.outcome == "failed"]
    assert all("could not reach the daemon" in (s.reason or "") for s in failed), failed


async def test_overload_is_reported_and_runs_wait_their_turn(
    harness: ServeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    from runner.serve.budget import DaemonLimits

    for n in range(4):
        write_playbook(harness.books, f"busy-{n}", "{ interval: 1s }")
    caplog.set_level(logging.WARNING, logger="runner.serve")
    serve = await harness.start(limits=DaemonLimits(ip_per_minute=120, session_per_minute=120))
    overload = [r for r in caplog.records if r.getMessage().startswith("overloaded")]
    assert overload, "an overload line at start"
    fields = overload[0].fields  # type: ignore[attr-defined]
    assert fields["demand_per_minute"] > fields["budget_per_minute"] == 114
    assert serve.metrics.overloaded._value.get() == 1
    await asyncio.sleep(2.5)
    await harness.stop()
    for n in range(4):
        slots = harness.slots(f"busy-{n}")
        # each slot either ran or is recorded with its reason: nothing vanished
        assert slots and all(s.outcome in ("ok", "skipped") for s in slots)
        assert all(s.reason for s in slots if s.outcome == "skipped")
    assert serve.budget.counters.rate_limited == 0


async def test_the_watchdog_notices_wall_clock_jumps(harness: ServeHarness) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1h }")
    wall = [1_000_000.0]
    mono = [50.0]
    serve = await harness.start(clock=lambda: wall[0], monotonic=lambda: mono[0])
    wall[0] += 1.0
    mono[0] += 1.0
    assert serve.check_clock(1_000_000.0, 50.0) == 0.0  # both moved alike
    wall[0] += 3600.0  # a suspend: the monotonic clock stood still for an hour
    assert serve.check_clock(1_000_001.0, 51.0) == 3600.0
    wall[0] -= 7200.0  # set back by two hours
    assert serve.check_clock(1_003_601.0, 51.0) == -7200.0
    assert serve.metrics.clock_jumps._value.get() == 2


@pytest.mark.parametrize("policy", ["skip", "run_once"])
async def test_slots_that_arrive_late_after_a_suspend_follow_the_missed_policy(
    harness: ServeHarness, policy: str
) -> None:
    write_playbook(harness.books, "minutely", f"{{ cron: '* * * * *', missed: {policy} }}")
    serve = await harness.start()
    now = time.time()
    minute = now - now % 60
    late = [_utc(minute - 600), _utc(minute - 540), _utc(minute - 480)]
    serve.fire("minutely", run_times=late)  # what APScheduler hands over after a suspend
    if policy == "run_once":
        await until(lambda: harness.slots("minutely")[-1].outcome == "ok", "the catch-up")
    serve.fire("minutely", run_times=late)  # the same slots again (a clock set back)
    assert serve.states["minutely"].task is None  # ignored: each slot is decided once
    await harness.stop()
    recorded = {s.slot: s for s in harness.slots("minutely")}
    outcomes = [recorded[s.timestamp()].outcome for s in late]
    if policy == "skip":
        assert outcomes == ["skipped"] * 3
        assert "could not start within the grace period" in (
            recorded[late[0].timestamp()].reason or ""
        )
    else:
        assert outcomes == ["skipped", "skipped", "ok"]


async def test_sends_from_one_wallet_never_overlap_across_playbooks(
    harness: ServeHarness,
) -> None:
    for name in ("pay-a", "pay-b", "pay-c"):
        write_playbook(harness.books, name, "{ interval: 1h }", SEND)
    # each send is held 0.4 s by the daemon after it took effect
    harness.sandbox.add_fault("POST /v1/transactions/send hold=0.4 times=3")
    serve = await harness.start()
    slot = _utc(time.time() // 3600 * 3600)
    for state in serve.states.values():
        serve.admit(state, slot)  # all three at once
    await until(lambda: all(s.task is None for s in serve.states.values()), "the runs")
    await harness.stop()
    with Ledger(harness.state) as ledger:
        sends = sorted(
            (s for n in ("pay-a", "pay-b", "pay-c") for s in ledger.sends(playbook=n)),
            key=lambda s: s.intended_at,
        )
    assert len(sends) == 3 and harness.sandbox.transaction_count() == 3
    for earlier, later in itertools.pairwise(sends):
        assert earlier.updated_at <= later.intended_at  # one at a time


async def test_a_burst_is_recorded_as_started_before_waiting_for_a_run_place(
    harness: ServeHarness,
) -> None:
    names = [f"burst-{n}" for n in range(4)]
    for name in names:
        write_playbook(harness.books, name, "{ interval: 1h }")
    harness.sandbox.add_fault("GET /v1/wallet/balance latency=0.5 times=1")
    serve = await harness.start(max_concurrent_runs=1)
    slot = _utc(time.time() // 3600 * 3600)
    for state in serve.states.values():
        serve.admit(state, slot)  # one scheduler tick: all four at once
    await until(
        lambda: all([s.outcome for s in harness.slots(n)] == ["running"] for n in names),
        "all four recorded as started",
    )
    records = [harness.slots(name)[0] for name in names]
    assert len({r.recorded_at for r in records}) == 1  # one write for the whole burst
    assert [r.run_id for r in records] == [slot_run_id(name, slot) for name in names]
    # one run holds the only run place (its balance is slow); three wait for it, and are
    # stopped before they begin: recorded as skipped, with the reason, never dropped
    await harness.stop()
    records = [harness.slots(name)[0] for name in names]
    assert sorted(r.outcome for r in records) == ["ok", "skipped", "skipped", "skipped"]
    assert all(
        (r.reason or "").startswith("shutdown: serve stopped before the run got a run place")
        for r in records
        if r.outcome == "skipped"
    )
    with Ledger(harness.state) as ledger:
        assert sum(ledger.run(r.run_id or "") is not None for r in records) == 1


async def test_missed_slots_older_than_the_prune_horizon_are_skipped(
    harness: ServeHarness,
) -> None:
    """After a prune up to now, the catch-up of `missed: run_once` would run a slot whose
    record may have been pruned: it is recorded as skipped (pruned), nothing runs."""
    write_playbook(harness.books, "hourly", "{ interval: 1h, missed: run_once, grace: 1s }")
    missed = _seed_downtime(harness, "hourly")
    db = connect(harness.state)
    db.execute("BEGIN IMMEDIATE")
    advance_horizon(db, time.time(), time.time(), 0, 0, 0, 0)
    db.execute("COMMIT")
    db.close()
    await harness.start()
    await until(lambda: harness.slots("hourly")[-1].outcome == "skipped", "the pruned slot")
    await harness.stop()
    recorded = {s.slot: s for s in harness.slots("hourly")}
    assert [recorded[s].outcome for s in missed] == ["skipped"] * 3
    assert (recorded[missed[-1]].reason or "").startswith("pruned: ")
    assert harness.sandbox.transaction_count() == 0
    with Ledger(harness.state) as ledger:
        assert ledger.run(slot_run_id("hourly", _utc(missed[-1]))) is None
