"""Client-side limits stop a send before it is posted, and say which limit and why.

Each case shows the daemon's transaction count unchanged by the refused send and the step's
reason naming the limit (and where it was set). Sends allowed before it in the same run
are posted normally.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.engine.results import ExitCode, StepStatus
from runner.ledger import SendState
from tests.exactly_once.conftest import STRANGER, Harness, reason

SEND = (
    'send: {{ from: treasury, to: "${{{{ vars.to{n} }}}}", amount: "${{{{ vars.amount{n} }}}}" }}'
)


def _steps(*sends: tuple[str, str]) -> tuple[str, dict[str, str]]:
    """The steps, and the --var values that give them their recipients and amounts.

    The amounts arrive as ``--var`` overrides, the way a too-large amount reaches a run:
    written into the playbook, ``validate`` would already refuse them. Each send has a
    condition for the same reason: unconditional sends past max_sends_per_run are refused
    by ``validate``, conditional ones are counted by the engine.
    """
    lines = ["vars:", "  go: true"]
    variables: dict[str, str] = {}
    for n, (to, amount) in enumerate(sends, 1):
        lines += [f"  to{n}: agent", f'  amount{n}: "0.001 ETH"']
        variables |= {f"to{n}": to, f"amount{n}": amount}
    lines.append("steps:")
    for n in range(1, len(sends) + 1):
        lines += [f"  - id: send{n}", "    if: vars.go", f"    {SEND.format(n=n)}"]
    return "\n".join(lines) + "\n", variables


CASES = {
    "max_per_send": (
        'limits: { max_per_send: "0.005 ETH" }\n',
        [("agent", "0.006 ETH")],
        "limit max_per_send (playbook): 0.006 ETH is more than 0.005 ETH",
    ),
    "max_per_run": (
        'limits: { max_per_run: "0.01 ETH" }\n',
        [("agent", "0.006 ETH"), ("agent", "0.006 ETH")],
        "limit max_per_run (playbook): this run would send 0.012 ETH, more than 0.01 ETH "
        "(counting this run's sends on ethereum-sepolia)",
    ),
    "allow_to": (
        "limits: { allow_to: [agent] }\n",
        [("agent", "0.001 ETH"), (STRANGER, "0.001 ETH")],
        f"limit allow_to (playbook): recipient {STRANGER} is not in [agent]",
    ),
    "max_sends_per_run": (
        "limits: { max_sends_per_run: 1 }\n",
        [("agent", "0.001 ETH"), ("agent", "0.001 ETH")],
        "limit max_sends_per_run (playbook): this run already posted 1 of 1 sends",
    ),
}


@pytest.mark.parametrize("limit", list(CASES))
async def test_a_limit_refuses_the_send_before_posting(harness: Harness, limit: str) -> None:
    limits, sends, message = CASES[limit]
    steps, variables = _steps(*sends)
    result, _ = await harness.run(limits + steps, variables=variables)

    allowed = len(sends) - 1  # the last send is the one over the limit
    assert result.exit_code is ExitCode.FAILED
    refused = f"send{len(sends)}"
    assert message in reason(result, refused)
    assert reason(result, refused).endswith("nothing was sent")
    assert harness.tx_count() == allowed
    # the refused send never reached the ledger either
    assert [s.step_id for s in harness.sends()] == [f"send{i}" for i in range(1, allowed + 1)]


@pytest.mark.parametrize("earlier", ["accepted", "in-flight"])
async def test_max_per_day_counts_earlier_runs_including_sends_in_flight(
    harness: Harness, earlier: str, tmp_path: Path
) -> None:
    """Another playbook sharing the ledger sent 0.009 ETH today; 0.002 more would pass the
    runner config's 0.01 ETH day, which counts every playbook's sends (a playbook's own
    cap counts only its own: tests/engine/test_limit_scopes.py). In flight: its outcome
    is unknown (the answer was lost and the list could not be read), so it still counts."""
    if earlier == "in-flight":
        harness.sandbox.add_fault("POST /v1/transactions/send status=502 body=proxy times=1")
        harness.sandbox.add_fault("GET /v1/transactions status=503 body=proxy")
    steps, variables = _steps(("agent", "0.009 ETH"))
    first, _ = await harness.run(steps, name="earlier", variables=variables)
    harness.sandbox.clear_faults()
    before = harness.tx_count()
    state = SendState.ACCEPTED if earlier == "accepted" else SendState.UNKNOWN
    assert [s.state for s in harness.sends("earlier")] == [state]
    assert first.exit_code is (ExitCode.OK if earlier == "accepted" else ExitCode.UNKNOWN_SEND)

    config = tmp_path / "runner-config.yaml"
    config.write_text('limits: { max_per_day: "0.01 ETH" }\n', encoding="utf-8")
    steps, variables = _steps(("agent", "0.002 ETH"))
    own_cap = 'limits: { max_per_day: "0.01 ETH" }\n'  # this playbook's: nothing sent yet
    result, _ = await harness.run(own_cap + steps, config=config, variables=variables)

    assert result.exit_code is ExitCode.FAILED
    assert reason(result, "send1") == (
        "limit max_per_day (runner config): 0.009 ETH already sent in the last 24 h "
        "(in-flight sends included); 0.002 ETH more would pass 0.01 ETH (counting every "
        "playbook's sends in this ledger on ethereum-sepolia); nothing was sent"
    )
    assert harness.tx_count() == before
    assert harness.sends() == []


async def test_a_limit_from_the_runner_config_file(harness: Harness, tmp_path: Path) -> None:
    config = tmp_path / "runner-config.yaml"
    config.write_text('limits:\n  max_per_send: "0.005 ETH"\n', encoding="utf-8")
    # the playbook's own cap is looser: the config's stricter one wins
    steps, variables = _steps(("agent", "0.006 ETH"))
    body = 'limits: { max_per_send: "1 ETH" }\n' + steps

    result, _ = await harness.run(body, config=config, variables=variables)

    assert result.exit_code is ExitCode.FAILED
    assert result.steps[0].status is StepStatus.FAILED
    assert "limit max_per_send (runner config): 0.006 ETH is more than 0.005 ETH" in reason(
        result, "send1"
    )
    assert harness.tx_count() == 0
    assert harness.sends() == []
