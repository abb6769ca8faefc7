"""SIGKILL at each instant of a send, then `waiaas-run run --resume`: one transaction a key.

The runner is a real process killed with SIGKILL (no clean-up, no finally): at the three
failpoints of the engine, and while its request is held by the daemon after it took
effect (the sandbox's ``hold`` fault). The resumed run must settle the interrupted send
from the ledger and the daemon's list, never by posting it a second time.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from runner.ledger import Ledger, SendState
from tests.exactly_once.processes import (
    Daemon,
    Runner,
    json_events,
    sandbox_process,
    wait_until,
)

NAME = "crash-test"
PLAYBOOK = """\
steps:
  - id: before
    balance: { wallet: treasury }
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
  - id: tip
    send: { from: treasury, to: agent, amount: "0.002 ETH" }
"""


def _kill_while_held(runner: Runner, daemon: Daemon) -> int:
    """Kill the runner once the daemon has created the transaction but not yet answered."""
    daemon.add_fault(method="POST", path="/v1/transactions/send", hold=30, times=1)
    process = runner.start()
    try:
        wait_until(lambda: daemon.tx_count() == 1, "the daemon created the transaction")
        process.send_signal(signal.SIGKILL)
        return process.wait(timeout=10)
    finally:
        process.kill()
        process.communicate(timeout=10)


@pytest.mark.parametrize(
    ("instant", "posted_before_kill"),
    [
        ("before-intent", 0),  # nothing in the ledger for the key yet
        ("after-intent", 0),  # committed, the request never left
        ("held-answer", 1),  # the daemon created it; its answer never arrived
        ("after-answer", 1),  # answered, but the ledger was not updated
    ],
)
def test_sigkill_then_resume_posts_each_key_once(
    tmp_path: Path, instant: str, posted_before_kill: int
) -> None:
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, PLAYBOOK, NAME)
        if instant == "held-answer":
            killed = _kill_while_held(runner, daemon)
        else:
            killed = runner.run(failpoint=instant).returncode
        assert killed == -signal.SIGKILL
        assert daemon.tx_count() == posted_before_kill
        with Ledger(runner.ledger) as ledger:
            interrupted = ledger.sends(playbook=NAME)
            run = ledger.last_unfinished_run(NAME)
        assert run is not None and run.status == "running"  # it never got to say otherwise
        expected = [] if instant == "before-intent" else [SendState.INTENDED]
        assert [send.state for send in interrupted] == expected

        # a short request timeout: the resume waits that long (plus a grace) after the
        # interrupted intent before it judges the daemon's list
        resumed = runner.run("--resume", "--request-timeout", "1s")

        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert daemon.tx_count() == 2  # fund and tip: one each
        with Ledger(runner.ledger) as ledger:
            sends = ledger.sends(playbook=NAME)
            finished = ledger.run(run.run_id)
        assert finished is not None and finished.status == "ok"
        assert [send.step_id for send in sends] == ["fund", "tip"]
        assert all(send.run_id == run.run_id for send in sends)  # the same keys, resumed
        assert [send.state for send in sends] == [SendState.ACCEPTED] * 2
        assert {send.tx_id for send in sends} == daemon.tx_ids()
        fund = next(e for e in json_events(resumed.stdout) if e.get("id") == "fund")
        assert fund["output"]["adopted"] is bool(posted_before_kill)
