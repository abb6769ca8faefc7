"""Two `waiaas-run` processes on one playbook and one ledger: one runs, one transaction.

Both are started for the same run (``--run-id``, as two cron firings of one scheduled slot
would be): the second is refused with exit 1, or with ``--wait-lock`` waits for the first
and then finds its send already accepted in the ledger.
"""

from __future__ import annotations

from pathlib import Path

from runner.ledger import Ledger, SendState
from tests.exactly_once.processes import Runner, json_events, sandbox_process, wait_until

NAME = "lock-test"
PLAYBOOK = """\
steps:
  - id: before
    balance: { wallet: treasury }
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""
RUN_ID = "20261125T180000Z-slot01"


def test_a_second_process_is_refused_or_waits_and_one_transaction_is_sent(
    tmp_path: Path,
) -> None:
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, PLAYBOOK, NAME)
        # the first process is slowed on its first call, while it holds the playbook lock
        daemon.add_fault(method="GET", path="/v1/connect-info", latency=6, times=1)
        first = runner.start("--run-id", RUN_ID)
        with daemon.control() as http:
            wait_until(
                lambda: http.get("/_sandbox/faults").json()["faults"] == [],
                "the first process reached the daemon",
            )
        refused = runner.start("--run-id", RUN_ID)
        waiting = runner.start("--run-id", RUN_ID, "--wait-lock")
        try:
            _, refused_err = refused.communicate(timeout=30)
            assert refused.returncode == 1
            assert "another waiaas-run process is running playbook 'lock-test'" in refused_err
            assert "--wait-lock" in refused_err
            assert "Traceback" not in refused_err
            assert waiting.poll() is None  # still waiting for the lock
            first_out, first_err = first.communicate(timeout=30)
            waiting_out, waiting_err = waiting.communicate(timeout=30)
        finally:
            for process in (first, refused, waiting):
                process.kill()
                process.communicate(timeout=10)

    assert first.returncode == 0, first_out + first_err
    assert waiting.returncode == 0, waiting_out + waiting_err
    assert daemon_count(tmp_path) == 1
    fund = next(e for e in json_events(waiting_out) if e.get("id") == "fund")
    assert fund["status"] == "ok" and fund["output"]["adopted"] is True
    first_fund = next(e for e in json_events(first_out) if e.get("id") == "fund")
    assert first_fund["output"]["id"] == fund["output"]["id"]


def daemon_count(tmp_path: Path) -> int:
    """Transactions the (stopped) sandbox's state file holds, and the ledger agrees."""
    import sqlite3

    with sqlite3.connect(tmp_path / "sandbox.sqlite3") as db:
        (total,) = db.execute("SELECT COUNT(*) FROM transactions").fetchone()
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        sends = ledger.sends(playbook=NAME)
    assert [(s.step_id, s.state) for s in sends] == [("fund", SendState.ACCEPTED)]
    return int(total)
