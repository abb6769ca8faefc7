"""Every exit code of `waiaas-run run` / `plan`, through the command line, with --sandbox.

These are plain sync tests: the command runs its own event loop (asyncio.run), and
--sandbox starts the sandbox daemon inside it on a free 127.0.0.1 port.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

import runner.sandbox
from runner.cli import main
from runner.ledger import Ledger, SendState
from tests.engine.conftest import playbook_text

FIXTURE = Path(runner.sandbox.__file__).parent / "default_fixture.yaml"
EXAMPLES = Path(__file__).parents[2] / "examples"


def invoke(tmp_path: Path, *args: str, env: dict[str, str | None] | None = None) -> Result:
    environment: dict[str, str | None] = {
        "WAIAAS_URL": None,
        "WAIAAS_SESSION_TOKEN": None,
        "WAIAAS_RUNNER_STATE": str(tmp_path / "default-ledger.sqlite3"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        **(env or {}),
    }
    return CliRunner().invoke(main, list(args), env=environment, catch_exceptions=True)


def write(tmp_path: Path, body: str, name: str = "playbook.yaml") -> Path:
    path = tmp_path / name
    path.write_text(playbook_text(body), encoding="utf-8")
    return path


def fixture_with(tmp_path: Path, *faults: dict[str, Any]) -> Path:
    data = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    data["faults"] = list(faults)
    path = tmp_path / "fixture.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def summary(result: Result) -> dict[str, Any]:
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert events and events[-1]["event"] == "summary", result.output
    return events[-1]


def assert_exit(result: Result, code: int) -> None:
    assert result.exit_code == code, (result.output, result.exception)
    # never a traceback (CliRunner reports a clean exit 0 as no exception at all)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_exit_0_when_every_step_is_ok(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        steps:
          - id: agent
            balance: { wallet: agent }
          - id: fund
            if: steps.agent.amount < amount("0.05 ETH")
            send: { from: treasury, to: agent, amount: "0.005 ETH" }
          - assert: steps.fund.sent
        """,
    )
    result = invoke(tmp_path, "--sandbox", "--output", "json", str(path))
    assert_exit(result, 0)
    assert summary(result)["steps"] == {"ok": 3, "skipped": 0, "failed": 0, "unknown": 0}


def test_exit_1_when_an_assertion_is_false(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        steps:
          - id: agent
            balance: { wallet: agent }
          - assert: steps.agent.amount > amount("1 ETH")
            message: "agent is short: ${{ steps.agent.amount }}"
        """,
    )
    result = invoke(tmp_path, "run", "--sandbox", str(path))
    assert_exit(result, 1)
    assert "agent is short: 0.02 ETH" in result.stdout


def test_exit_1_when_a_daemon_call_fails(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - id: b\n    balance: { wallet: agent }\n")
    fixture = fixture_with(
        tmp_path,
        {"method": "GET", "path": "/v1/wallet/balance", "status": 404, "code": "WALLET_NOT_FOUND"},
    )
    result = invoke(tmp_path, "--sandbox", "--fixture", str(fixture), "--output", "json", str(path))
    assert_exit(result, 1)
    steps = [json.loads(line) for line in result.stdout.splitlines()][:-1]
    assert steps[0]["status"] == "failed" and "WALLET_NOT_FOUND" in steps[0]["reason"]


def test_exit_2_for_an_invalid_playbook(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - id: b\n    balance: { wallet: nobody }\n")
    result = invoke(tmp_path, "--sandbox", str(path))
    assert_exit(result, 2)
    assert "unknown wallet 'nobody'" in result.stderr


def test_exit_2_for_a_bad_var_and_for_a_missing_daemon(tmp_path: Path) -> None:
    path = write(tmp_path, 'vars: { top: "0.1 ETH" }\nsteps:\n  - log: hi\n')
    bad_var = invoke(tmp_path, "--sandbox", "--var", "top=12 USDC", str(path))
    assert_exit(bad_var, 2)
    assert "--var top: expected an amount in ETH" in bad_var.stderr
    unknown_var = invoke(tmp_path, "--sandbox", "--var", "nope=1", str(path))
    assert_exit(unknown_var, 2)
    assert "--var nope: the playbook has no such var" in unknown_var.stderr
    no_daemon = invoke(tmp_path, "run", str(path))  # neither --sandbox nor $WAIAAS_URL
    assert_exit(no_daemon, 2)
    assert "WAIAAS_URL" in no_daemon.stderr


def test_exit_2_for_bad_usage(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - log: hi\n")
    both = invoke(tmp_path, "run", "--resume", "--run-id", "x", str(path))
    assert both.exit_code == 2
    missing = invoke(tmp_path, "run", "--sandbox", str(tmp_path / "absent.yaml"))
    assert_exit(missing, 2)
    assert "cannot read playbook" in missing.stderr


def test_exit_3_when_a_send_is_in_an_unknown_state(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        steps:
          - id: fund
            send: { from: treasury, to: agent, amount: "0.005 ETH" }
          - log: never reached
        """,
    )
    # the answer to the send is lost, and the transaction list cannot be read to settle it
    fixture = fixture_with(
        tmp_path,
        {"method": "POST", "path": "/v1/transactions/send", "action": "drop"},
        {"method": "GET", "path": "/v1/transactions", "status": 500, "code": "INTERNAL_ERROR"},
    )
    state = tmp_path / "ledger.sqlite3"
    result = invoke(
        tmp_path, "--sandbox", "--fixture", str(fixture), "--state", str(state), str(path)
    )
    assert_exit(result, 3)
    assert "NEEDS ATTENTION" in result.stdout
    assert "waiaas-run resolve" in result.stdout
    assert "never reached" not in result.stdout
    with Ledger(state) as ledger:
        (intent,) = ledger.sends()
    assert intent.state is SendState.UNKNOWN


def test_the_worst_exit_code_of_several_playbooks_wins(tmp_path: Path) -> None:
    ok = write(tmp_path, "steps:\n  - log: fine\n", "ok.yaml")
    failing = write(tmp_path, "steps:\n  - assert: false\n", "failing.yaml")
    result = invoke(tmp_path, "--sandbox", "-q", str(ok), str(failing))
    assert_exit(result, 1)


def test_plan_of_the_quickstart_exits_0_and_lists_the_send(tmp_path: Path) -> None:
    result = invoke(tmp_path, "plan", "--sandbox", str(EXAMPLES / "quickstart.yaml"))
    assert_exit(result, 0)
    assert "Sends this run would make" in result.stdout
    assert "fund" in result.stdout and "DELAY" in result.stdout


def test_plan_exit_1_when_an_assertion_on_projections_fails(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        steps:
          - id: pay
            send: { from: agent, to: treasury, amount: "0.015 ETH" }
          - id: left
            balance: { wallet: agent }
          - assert: steps.left.amount >= amount("0.01 ETH")
            message: "agent would keep only ${{ steps.left.amount }}"
        """,
    )
    result = invoke(tmp_path, "plan", "--sandbox", "--output", "markdown", str(path))
    assert_exit(result, 1)
    assert "agent would keep only 0.004958 ETH" in result.stdout


def test_exit_2_when_the_ledger_cannot_be_opened(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    state = blocker / "ledger.sqlite3"  # its parent is a file: no ledger can live there
    result = invoke(
        tmp_path, "run", "--sandbox", "--state", str(state), str(EXAMPLES / "quickstart.yaml")
    )
    assert_exit(result, 2)
    assert f"cannot open the ledger {state}" in result.output
    history = invoke(tmp_path, "history", "--state", str(state))
    assert_exit(history, 2)


def test_exit_2_for_a_broken_token_file_that_is_never_quoted(tmp_path: Path) -> None:
    secret_part = "eyJzdWIiOiJzZWNyZXQifQ"
    token_file = tmp_path / "token"
    token_file.write_text(f"wai_sess_aaa.{secret_part}.sig\n# renewed by cron\n")
    playbook = write(tmp_path, "steps:\n  - log: hi\n")
    result = invoke(
        tmp_path,
        "run",
        "--daemon-url",
        "http://127.0.0.1:9",
        "--token-file",
        str(token_file),
        str(playbook),
    )
    assert_exit(result, 2)
    assert "not one line of printable ASCII" in result.output
    assert secret_part not in result.output


def test_exit_2_for_a_unit_typo_in_the_runner_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text('limits:\n  max_per_send: "0.01 eth"\n')
    result = invoke(
        tmp_path, "run", "--sandbox", "--config", str(config), str(EXAMPLES / "quickstart.yaml")
    )
    assert_exit(result, 2)
    assert "unknown unit 'eth' (did you mean 'ETH'?)" in result.output


def test_exit_2_for_a_var_that_cannot_be_computed(tmp_path: Path) -> None:
    playbook = write(
        tmp_path,
        'vars:\n  n: "${{ 1 / (len(run.id) - len(run.id)) }}"\nsteps:\n  - log: hi\n',
    )
    result = invoke(tmp_path, "run", "--sandbox", str(playbook))
    assert_exit(result, 2)
    assert "division by zero" in result.output


def test_exit_2_for_a_broken_sandbox_fixture(tmp_path: Path) -> None:
    fixture = tmp_path / "fixture.yaml"
    fixture.write_text("wallets: [1")
    result = invoke(
        tmp_path, "run", "--sandbox", "--fixture", str(fixture), str(EXAMPLES / "quickstart.yaml")
    )
    assert_exit(result, 2)
    assert "--fixture" in result.output
