"""A send in state unknown: exit 3, `history` shows it, `resolve` settles it, `--resume`
finishes the run — and the send is never posted a second time.

The unknown state is produced for real: the send's answer is lost and the transaction list
cannot be read, so reconciliation cannot decide.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.history import command as history
from runner.cli.resolve import command as resolve
from runner.engine.results import ExitCode, StepStatus
from runner.ledger import Ledger, SendState
from tests.exactly_once.conftest import NAME, Harness, reason
from tests.exactly_once.processes import Runner, sandbox_process

SEND_ONLY = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""
PLAYBOOK = (
    SEND_ONLY
    + """\
  - id: settle
    wait: { transaction: "${{ steps.fund.id }}", until: CONFIRMED, timeout: 30s,
            interval: 20ms }
"""
)
LIST_UNREADABLE = "GET /v1/transactions status=503 body=proxy"


def _cli(command: object, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(command, list(args))  # type: ignore[arg-type]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("lost", "created"),
    [
        ("drop times=1", 1),  # the daemon created it, the answer was lost
        ("status=502 body=proxy times=1", 0),  # a proxy refused it before the daemon
    ],
)
async def test_unknown_send_is_resolved_by_hand_then_resumed(
    harness: Harness, lost: str, created: int
) -> None:
    harness.sandbox.add_fault(f"POST /v1/transactions/send {lost}")
    harness.sandbox.add_fault(LIST_UNREADABLE)
    path = harness.write(PLAYBOOK)

    result, _ = await harness.run_file(path)

    assert result.exit_code is ExitCode.UNKNOWN_SEND
    assert [s.status for s in result.steps] == [StepStatus.UNKNOWN]  # the run stopped there
    assert harness.tx_count() == created
    [send] = harness.sends()
    assert send.state is SendState.UNKNOWN and send.tx_id is None
    assert f"waiaas-run resolve {send.key} --tx ID" in reason(result, "fund")
    state = str(harness.state)

    code, shown = _cli(history, "--state", state)
    assert code == 0
    assert f"{send.key}: unknown" in shown and "no transaction" in shown
    code, shown = _cli(history, "--state", state, "--output", "json")
    [run] = json.loads(shown)
    assert run["status"] == "unknown" and run["exit_code"] == 3
    assert [(s["key"], s["state"]) for s in run["sends"]] == [(send.key, "unknown")]

    # resuming before anybody looked changes nothing: unknown is never posted again
    harness.sandbox.clear_faults()
    again, _ = await harness.run_file(path, resume=True)
    assert again.exit_code is ExitCode.UNKNOWN_SEND
    assert harness.tx_count() == created
    code, shown = _cli(resolve, send.key, "--tx", "zzz", "--state", state)
    assert code == 2 and "not a transaction id" in shown

    if created:
        [tx_id] = harness.tx_ids()
        code, shown = _cli(resolve, send.key, "--tx", tx_id, "--state", state)
        assert code == 0 and f"recorded as transaction {tx_id}" in shown
    else:
        code, shown = _cli(resolve, send.key, "--not-sent", "--state", state)
        assert code == 0 and "recorded as not sent" in shown
    code, shown = _cli(resolve, send.key, "--not-sent", "--state", state)
    assert code == 2 and "nothing to resolve" in shown  # settled once is settled

    finished, _ = await harness.run_file(path, resume=True)

    assert finished.exit_code is ExitCode.OK, [(s.step_id, s.reason) for s in finished.steps]
    assert finished.run_id == result.run_id
    assert harness.tx_count() == 1
    [settled] = harness.sends()
    assert settled.state is SendState.ACCEPTED
    assert [settled.tx_id] == harness.tx_ids()
    assert settled.tx_status == "CONFIRMED"  # the wait step read it to the end
    code, shown = _cli(history, "--state", state)
    assert f"{send.key}: accepted" in shown and f"[{settled.tx_id} CONFIRMED]" in shown


async def test_resolve_refuses_bad_usage(harness: Harness) -> None:
    await harness.run(PLAYBOOK)
    [send] = harness.sends()
    state = str(harness.state)
    for args, says in [
        ((send.key, "--state", state), "exactly one of --tx ID and --not-sent"),
        ((send.key, "--tx", "x", "--not-sent", "--state", state), "exactly one of"),
        (("nope/run/step", "--not-sent", "--state", state), "no send with key"),
        ((send.key, "--not-sent", "--state", state), "is accepted, not unknown"),
    ]:
        code, shown = _cli(resolve, *args)
        assert code == 2 and says in shown
    with Ledger(harness.state) as ledger:
        assert ledger.send(send.key) == send  # nothing was touched


def test_the_whole_flow_through_the_cli(tmp_path: Path) -> None:
    """`run` exits 3, `history`, `resolve --tx`, `run --resume`: real processes."""
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, SEND_ONLY, NAME)
        daemon.add_fault(method="POST", path="/v1/transactions/send", action="drop", times=1)
        # not retryable, so the unreadable list fails at once (a process sleeps for real)
        daemon.add_fault(method="GET", path="/v1/transactions", status=500)
        first = runner.run()
        assert first.returncode == 3, first.stdout + first.stderr
        assert "Traceback" not in first.stderr
        with Ledger(runner.ledger) as ledger:
            [send] = ledger.sends(playbook=NAME)
        assert send.state is SendState.UNKNOWN
        with daemon.control() as http:
            http.delete("/_sandbox/faults").raise_for_status()
        [tx_id] = daemon.tx_ids()  # what a person finds in the daemon's list

        base = runner.args()[:3]  # python -m runner
        history_run = _process(runner, *base, "history", "--state", str(runner.ledger))
        assert f"{send.key}: unknown" in history_run
        settled = _process(
            runner, *base, "resolve", send.key, "--tx", tx_id, "--state", str(runner.ledger)
        )
        assert "it will not be posted again" in settled
        resumed = runner.run("--resume")

        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert daemon.tx_count() == 1
        with Ledger(runner.ledger) as ledger:
            [done] = ledger.sends(playbook=NAME)
        assert (done.state, done.tx_id) == (SendState.ACCEPTED, tx_id)


def _process(runner: Runner, *args: str) -> str:
    finished = subprocess.run(
        list(args), env=runner.environ(), capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


async def test_a_new_run_warns_about_unsettled_sends(harness: Harness) -> None:
    harness.sandbox.add_fault("POST /v1/transactions/send drop times=1")
    harness.sandbox.add_fault("GET /v1/transactions status=500 times=1")
    path = harness.write(PLAYBOOK)
    first, _ = await harness.run_file(path)
    assert first.exit_code is ExitCode.UNKNOWN_SEND
    [unknown] = harness.sends()
    _, reporter = await harness.run_file(path)  # the next cron tick: a new run, new keys
    warnings = [message for level, message in reporter.logs if level == "warning"]
    assert any(unknown.key in message and "unknown state" in message for message in warnings)
