"""Send sequencing across real processes that share one ledger, and across the runs of
serve (issue #19), against a sandbox whose signings take long enough (0.3 s) that a send
posted right after another's 201 always overlaps it."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runner.ledger import Ledger, SendState
from runner.sandbox import Sandbox
from tests.exactly_once.conftest import fast_fixture
from tests.exactly_once.processes import Daemon, Runner, json_events, sandbox_process, wait_until
from tests.exactly_once.sequencing import sends_body
from tests.serve.conftest import ServeHarness, until, write_playbook

WINDOW = "0.3"  # seconds a send signs in these sandboxes


def treasury_statuses(daemon: Daemon) -> dict[str, int]:
    """How many of the treasury's transactions are in each status (the sandbox's count)."""
    treasury = next(w["id"] for w in daemon.wallets if w["name"] == "treasury")
    with daemon.control() as http:
        answer = http.get("/_sandbox/transactions/count", params={"walletId": treasury})
        answer.raise_for_status()
        by_status: dict[str, int] = answer.json()["byStatus"]
        return by_status


def settled(daemon: Daemon) -> dict[str, int]:
    """The treasury's transactions by status once none is PENDING, SUBMITTED or EXECUTING."""
    moving = {"PENDING", "SUBMITTED", "EXECUTING"}
    wait_until(lambda: not set(treasury_statuses(daemon)) & moving, "the transactions settled")
    return treasury_statuses(daemon)


def test_two_processes_sharing_a_ledger_take_turns(tmp_path: Path) -> None:
    with sandbox_process(tmp_path, "--pipeline-seconds", WINDOW) as daemon:
        first = Runner(daemon, tmp_path, sends_body(3, prefix="a"), "proc-a")
        second = Runner(daemon, tmp_path, sends_body(3, prefix="b"), "proc-b")
        started = [first.start(), second.start()]
        outputs = [process.communicate(timeout=60) for process in started]
        for process, (out, err) in zip(started, outputs, strict=True):
            assert process.returncode == 0, out + err
        ends = settled(daemon)
    assert ends == {"CONFIRMED": 6}
    with Ledger(first.ledger) as ledger:
        intents = sorted(
            [*ledger.sends(playbook="proc-a"), *ledger.sends(playbook="proc-b")],
            key=lambda intent: intent.intended_at,
        )
    events = [e for out, _ in outputs for e in json_events(out) if e.get("event") == "step"]
    waited_for = {e["output"]["id"]: e["output"]["pipeline"]["after"] for e in events}
    for earlier, later in itertools.pairwise(intents):  # each after the one before it
        assert later.tx_id is not None
        assert waited_for[later.tx_id] == [earlier.tx_id]


def test_a_process_killed_after_the_answer_is_still_waited_for(tmp_path: Path) -> None:
    """The first process dies right after the daemon's 201, before its ledger knows the
    transaction's id; the next process waits until that request would have timed out."""
    with sandbox_process(tmp_path, "--pipeline-seconds", WINDOW) as daemon:
        dying = Runner(daemon, tmp_path, sends_body(1), "dying")
        killed = dying.run(failpoint="after-answer")
        assert killed.returncode < 0  # SIGKILL
        alive = Runner(daemon, tmp_path, sends_body(1), "alive")
        began = time.monotonic()
        done = alive.run("--request-timeout", "1s")
        assert done.returncode == 0, done.stdout + done.stderr
        assert time.monotonic() - began >= 2  # at least the 2 s grace after the request
        ends = settled(daemon)
    assert ends == {"CONFIRMED": 2}
    with Ledger(alive.ledger) as ledger:
        assert [s.state for s in ledger.sends(playbook="dying")] == [SendState.INTENDED]
    [event] = [e for e in json_events(done.stdout) if e.get("id") == "pay_0"]
    assert event["output"]["pipeline"]["after"] == ["request dying/" + _run_of(tmp_path) + "/pay_0"]


def _run_of(tmp_path: Path) -> str:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        [intent] = ledger.sends(playbook="dying")
    return intent.run_id


async def test_two_runs_under_serve_take_turns(tmp_path: Path) -> None:
    fixture = fast_fixture()
    timings = fixture.timings.model_copy(update={"pipeline_seconds": float(WINDOW)})
    async with Sandbox(port=0, fixture=fixture.model_copy(update={"timings": timings})) as sandbox:
        harness = ServeHarness(tmp_path, sandbox)
        for name in ("serve-a", "serve-b"):
            write_playbook(harness.books, name, "{ interval: 1h }", sends_body(3, prefix=name[-1]))
        serve = await harness.start()
        try:
            slot = datetime.fromtimestamp(time.time() // 3600 * 3600, UTC)
            for state in serve.states.values():
                serve.admit(state, slot)  # both at once
            await until(lambda: all(s.task is None for s in serve.states.values()), "the runs", 30)
        finally:
            await harness.stop()
        sandbox.advance(5)
        store = sandbox.core.store
        rows = store.list_txs(sandbox.wallet("treasury")["id"], 100, None)
        assert [(tx.status, tx.error) for tx in rows] == [("CONFIRMED", None)] * 6
    with Ledger(harness.state) as ledger:
        intents: list[Any] = sorted(
            [*ledger.sends(playbook="serve-a"), *ledger.sends(playbook="serve-b")],
            key=lambda intent: intent.intended_at,
        )
    assert [i.state for i in intents] == [SendState.ACCEPTED] * 6
