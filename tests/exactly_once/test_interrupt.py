"""Real `waiaas-run run` processes: Ctrl-C mid-send, a damaged ledger, a file in place of
the lock folder. Each ends with a message a person can act on and the documented exit
code, never a traceback or a bare "Aborted!".
"""

from __future__ import annotations

import signal
from pathlib import Path

from runner.ledger import Ledger, SendState
from tests.exactly_once.processes import Runner, sandbox_process, wait_until
from tests.ledger.damage import damage, fill, newest_leaf

NAME = "interrupt-test"
PLAYBOOK = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""


def _intended(runner: Runner) -> bool:
    if not runner.ledger.exists():
        return False
    with Ledger(runner.ledger) as ledger:
        return [send.state for send in ledger.sends(playbook=NAME)] == [SendState.INTENDED]


def test_ctrl_c_during_a_send_says_its_state_and_how_to_resume(tmp_path: Path) -> None:
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, PLAYBOOK, NAME)
        # the daemon creates the transaction and holds its answer: the send is in flight
        daemon.add_fault(method="POST", path="/v1/transactions/send", hold=30, times=1)
        process = runner.start("--output", "text", "--request-timeout", "1s")
        try:
            wait_until(lambda: daemon.tx_count() == 1, "the daemon created the transaction")
            assert _intended(runner)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            process.kill()
        assert process.returncode == 3, out + err
        said = out + err
        assert "interrupted while send" in said and "--resume" in said
        assert "Aborted!" not in said and "Traceback" not in said
        assert _intended(runner)  # --resume will settle it from the daemon's list

        resumed = runner.run("--resume", "--request-timeout", "1s")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert daemon.tx_count() == 1  # adopted, not posted again


def test_a_damaged_ledger_or_a_file_in_place_of_locks_exit_2_with_what_to_do(
    tmp_path: Path,
) -> None:
    with sandbox_process(tmp_path) as daemon:
        damaged, blocked = tmp_path / "damaged", tmp_path / "blocked"
        damaged.mkdir()
        blocked.mkdir()
        runner = Runner(daemon, damaged, PLAYBOOK, NAME)
        fill(runner.ledger, runs=40, playbook=NAME)
        damage(runner.ledger, newest_leaf(runner.ledger, "sends"))
        refused = runner.run()
        assert refused.returncode == 2
        assert "is damaged" in refused.stderr and "ledger check" in refused.stderr
        assert "Traceback" not in refused.stderr + refused.stdout

        runner = Runner(daemon, blocked, PLAYBOOK, NAME)
        (blocked / "locks").write_text("not a folder")
        refused = runner.run()
        assert refused.returncode == 2
        assert "is a file, not a folder" in refused.stderr
        assert "Traceback" not in refused.stderr + refused.stdout
        assert daemon.tx_count() == 0
