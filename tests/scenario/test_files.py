"""Test files: located errors for invalid ones (exit 2), finding files, the JSON Schema."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.playbook.loader import load_yaml
from runner.scenario import scenario_schema, scenario_schema_text

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "playbooks").glob("*.test.yaml"))

PLAYBOOK = """\
version: 1
name: tiny
env:
  WAIAAS_URL: "http://127.0.0.1:3100"
  WAIAAS_SESSION_TOKEN: ~
  AGENT_WALLET: agent
daemon:
  url: "${{ env.WAIAAS_URL }}"
  token: "${{ env.WAIAAS_SESSION_TOKEN }}"
wallets:
  treasury: { name: treasury, network: ethereum-sepolia }
  agent: { name: "${{ env.AGENT_WALLET }}", network: ethereum-sepolia }
vars:
  floor: "0.05 ETH"
steps:
  - id: agent
    balance: { wallet: agent }
  - id: fund
    if: steps.agent.amount < vars.floor
    send: { from: treasury, to: agent, amount: "0.005 ETH" }
"""


def _write(tmp_path: Path, test_text: str) -> Path:
    (tmp_path / "tiny.yaml").write_text(PLAYBOOK, encoding="utf-8")
    path = tmp_path / "tiny.test.yaml"
    path.write_text(textwrap.dedent(test_text), encoding="utf-8")
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["test", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_valid_file_passes(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
        cases:
          - name: funds the agent
            expect:
              exit_code: 0
              sends: [{ from: treasury, to: agent, amount: "5000000 gwei" }]
        """,
    )
    code, out, err = _invoke(str(path))
    assert code == 0, out + err
    assert "✓ funds the agent" in out
    assert "1 case: 1 passed, 0 failed" in err + out


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        (
            "cases:\n  - name: x\n    expekt: {}\n",
            "3:5",
            "unknown key 'expekt' (did you mean 'expect'?)",
        ),
        ("cases: []\n", "1:8", "cases"),
        (
            "cases:\n  - name: x\n    expect: { steps: { fnud: ok } }\n",
            "3:24",
            "the playbook has no step 'fnud' (did you mean 'fund'?)",
        ),
        (
            "cases:\n  - name: x\n    expect: { steps: { fund: { outputs: { snet: true } } } }\n",
            "3:43",
            "step 'fund' (send) has no output 'snet' (did you mean 'sent'?)",
        ),
        (
            "cases:\n  - name: x\n    sandbox: { balances: { agnet: '1 ETH' } }\n",
            "3:35",
            "the sandbox has no wallet 'agnet' (did you mean 'agent'?)",
        ),
        (
            "cases:\n  - name: x\n    sandbox: { balances: { agent: '1 eth' } }\n",
            "3:35",
            "unknown unit 'eth' (did you mean 'ETH'?)",
        ),
        (
            "cases:\n  - name: x\n    env: { AGENT_WALET: a }\n",
            "3:12",
            "the playbook declares no env 'AGENT_WALET' (did you mean 'AGENT_WALLET'?)",
        ),
        (
            "cases:\n  - name: x\n    vars: { flor: '1 ETH' }\n",
            "3:13",
            "the playbook has no var 'flor' (did you mean 'floor'?)",
        ),
        (
            "cases:\n  - name: x\n    sandbox: { faults: ['POST /v1/x explode'] }\n",
            "3:25",
            "cannot read 'explode'",
        ),
        (
            "cases:\n  - name: x\n    sandbox: { clock: 'yesterday' }\n",
            "3:23",
            "not an ISO 8601 time",
        ),
        (
            "cases:\n  - name: x\n    expect: { sends: [{from: treasury, amount: 0.1}] }\n",
            "3:48",
            "expected text, got a number",
        ),
        ("cases:\n  - name: x\n  - name: x\n", "3:11", "two cases are named 'x'"),
        # found by the recipe mutations: each of these only failed its case when it ran,
        # as if the playbook had done something else
        (
            "cases:\n  - name: x\n    expect: { steps: { agent: { outputs: { amount: '1 ETHH' } } } }\n",  # noqa: E501
            "3:52",
            "unknown unit 'ETHH' (did you mean 'ETH'?)",
        ),
        (
            "cases:\n  - name: x\n    expect: { steps: { agent: { outputs: { amount: 0.02 } } } }\n",  # noqa: E501
            "3:52",
            'expected an amount with its unit, e.g. "0.02 ETH", got a number',
        ),
        (
            "cases:\n  - name: x\n    expect: { steps: { agent: { outputs: { amount: '1 SOL' } } } }\n",  # noqa: E501
            "3:52",
            "this is an amount of ETH, not SOL",
        ),
        (
            "cases:\n  - name: x\n    expect: { steps: { fund: { outputs: { sent: yes } } } }\n",
            "3:49",
            "YAML reads unquoted yes as true or false",
        ),
        (
            "cases:\n  - name: x\n    expect: { steps: { fund: { outputs: { raw: 'many' } } } }\n",
            "3:48",
            "this is a number, so text never matches it",
        ),
        (
            "cases:\n  - name: x\n    vars: { floor: '0.05 SOL' }\n",
            "3:20",
            "expected an amount in ETH, got '0.05 SOL'",
        ),
        (
            "cases:\n  - name: x\n    expect: { webhook: [{evnt: send}] }\n",
            "3:26",
            "no event has a field 'evnt' (did you mean 'event'?)",
        ),
        (
            "cases:\n  - name: x\n    expect: { webhook: [{event: sned, step: fnud}] }\n",
            "3:33",
            "no event is called 'sned' (did you mean 'send'?)",
        ),
        (
            "cases:\n  - name: x\n    expect: { webhook: [{event: send, step: fnud}] }\n",
            "3:45",
            "the playbook has no step 'fnud' (did you mean 'fund'?)",
        ),
        (
            "cases:\n  - name: x\n    expect: { webhook: [{event: send, amount: '0.1'}] }\n",
            "3:47",
            "expected an amount like",
        ),
        ("playbook: missing.yaml\ncases:\n  - name: x\n", "1:11", "missing.yaml is invalid"),
    ],
)
def test_invalid_test_files_are_located_errors_with_exit_code_2(
    tmp_path: Path, body: str, where: str, message: str
) -> None:
    path = _write(tmp_path, body)
    code, out, err = _invoke(str(path))
    assert code == 2, out + err
    assert f"{path}:{where}: " in err, err
    assert message in err
    assert "Traceback" not in out + err


def test_validate_checks_a_test_file_given_by_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "cases:\n  - name: x\n    expect: { steps: { fnud: ok } }\n")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "no step 'fnud'" in result.stdout


def test_validate_skips_test_files_in_directories(tmp_path: Path) -> None:
    _write(tmp_path, "cases:\n  - name: x\n")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 playbook valid" in result.stderr


def test_a_playbook_path_runs_its_scenario_file_and_notes_one_without(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "cases:\n  - name: funds\n    expect:\n"
        "      sends: [{from: treasury, to: agent, amount: '0.005 ETH'}]\n",
    )
    lonely = tmp_path / "lonely.yaml"
    lonely.write_text(PLAYBOOK.replace("name: tiny", "name: lonely"), encoding="utf-8")
    code, out, err = _invoke(str(tmp_path / "tiny.yaml"), str(lonely))
    assert code == 0, out + err
    assert "✓ funds" in out
    assert "lonely.yaml: no scenario file (lonely.test.yaml); not tested" in err


def test_nothing_to_test_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(PLAYBOOK, encoding="utf-8")
    code, _, err = _invoke(str(tmp_path / "tiny.yaml"))
    assert code == 2
    assert "no scenario files" in err


def test_json_output_has_one_line_per_case_and_a_summary(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "cases:\n  - name: a\n  - name: b\n    sandbox: { balances: { agent: '1 ETH' } }\n",
    )
    code, out, _ = _invoke(str(path), "--output", "json")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # case a sends (the agent is low) and expects no sends
    assert [e["event"] for e in events] == ["case", "case", "summary"]
    assert events[0]["passed"] is False
    assert events[0]["sends"] == [
        {"from": "treasury", "to": "agent", "amount": "0.005 ETH", "status": "PENDING"}
    ]  # nobody waited: on the frozen clock it is still PENDING when the run ends
    assert events[1]["passed"] is True
    assert events[2] == {"event": "summary", "passed": 1, "failed": 1, "invalid_files": 0}


def test_committed_scenario_schema_is_current() -> None:
    committed = (ROOT / "playbooks" / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == scenario_schema_text(), (
        "run: waiaas-run schema --scenario > playbooks/scenario.schema.json"
    )
    result = CliRunner().invoke(main, ["schema", "--scenario"])
    assert result.output == committed


def test_scenario_schema_is_valid_and_accepts_every_shipped_test_file() -> None:
    jsonschema.Draft202012Validator.check_schema(scenario_schema())
    validator = jsonschema.Draft202012Validator(scenario_schema())
    for path in SCENARIOS:
        data, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
        validator.validate(data)
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=scenario.schema.json"


def test_scenario_schema_rejects_unknown_keys() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(scenario_schema()).validate(
            {"cases": [{"name": "x", "expekt": {}}]}
        )


SLOW_PLAYBOOK = """\
version: 1
name: slow
env: { WAIAAS_URL: "http://127.0.0.1:3100", WAIAAS_SESSION_TOKEN: ~ }
daemon: { url: "${{ env.WAIAAS_URL }}", token: "${{ env.WAIAAS_SESSION_TOKEN }}" }
wallets: { treasury: { name: treasury, network: ethereum-sepolia } }
steps:
  - id: pay
    send: { from: treasury, to: "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", amount: "0.08 ETH" }
  - id: settle
    wait: { transaction: "${{ steps.pay.id }}", timeout: 2h, interval: 1m }
"""


def test_delays_and_long_waits_cost_no_real_time(tmp_path: Path) -> None:
    """A DELAY tier (5 min here) and a wait that times out after two hours of sandbox time
    both finish in moments: the clock only moves when the runner waits."""
    (tmp_path / "slow.yaml").write_text(SLOW_PLAYBOOK, encoding="utf-8")
    (tmp_path / "slow.test.yaml").write_text(
        textwrap.dedent(
            """\
            sandbox:
              tiers: { treasury: { delay_seconds: 5m } }
            cases:
              - name: a DELAY-tier send confirms after five minutes
                expect:
                  exit_code: 0
                  sends: [{ from: treasury, to: "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
                            amount: "0.08 ETH", status: CONFIRMED }]
                  steps: { settle: { outputs: { tier: DELAY, reached: true } } }
              - name: a stuck transfer times the wait out after two hours
                sandbox:
                  stuck_recipients: ["0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"]
                expect:
                  exit_code: 1
                  sends: [{ from: treasury, to: "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
                            amount: "0.08 ETH", status: SUBMITTED }]
                  steps: { settle: { status: failed, reason: "still SUBMITTED after 2:00:00" } }
            """
        ),
        encoding="utf-8",
    )
    started = time.monotonic()
    code, out, err = _invoke(str(tmp_path / "slow.test.yaml"))
    assert code == 0, out + err
    assert time.monotonic() - started < 20
