"""Amounts known only at run time that no playbook means are refused before any send
request (issue 10): zero (unless ``allow_zero: true``), negative, or more smallest units
than a uint256 holds."""

from __future__ import annotations

import pytest

from runner.engine.results import ExitCode, StepStatus
from runner.engine.scope import Mode
from tests.engine.conftest import Engine, outputs, step


def body(amount: str, *, allow_zero: bool = False) -> str:
    extra = ", allow_zero: true" if allow_zero else ""
    return f"""
    vars: {{ tip: "0.01 ETH" }}
    steps:
      - id: agent
        balance: {{ wallet: agent }}
      - id: usdc
        balance: {{ wallet: treasury, token: USDC }}
      - id: pay
        send: {{ from: treasury, to: agent, amount: "{amount}"{extra} }}
    """


CASES = {
    "zero from a --var": ("${{ vars.tip }}", {"tip": "0 ETH"}, "zero send is refused"),
    "zero computed": (
        "${{ steps.agent.amount - steps.agent.amount }}",
        {},
        "zero send is refused",
    ),
    "negative computed": (
        "${{ steps.agent.amount - amount('1 ETH') }}",
        {},
        "negative",
    ),
    "over 2^256-1 wei": ("${{ steps.agent.amount * 1e70 }}", {}, "2^256"),
    "over 2^256-1 token units": ("${{ steps.usdc.amount * 1e80 }}", {}, "2^256"),
}


@pytest.mark.parametrize("mode", ["run", "plan"])
@pytest.mark.parametrize("case", list(CASES))
async def test_refused_before_any_send(engine: Engine, case: str, mode: Mode) -> None:
    amount, variables, says = CASES[case]
    result, _ = await engine.run(body(amount), mode, variables=variables)
    pay = step(result, "pay")
    assert pay.status is StepStatus.FAILED, pay
    assert says in (pay.reason or ""), pay.reason
    assert result.exit_code is ExitCode.FAILED
    assert engine.sandbox.transaction_count() == 0
    with engine.ledger() as ledger:
        assert ledger.sends() == []  # refused before an intent was written


async def test_allow_zero_lets_a_zero_send_through(engine: Engine) -> None:
    result, _ = await engine.run(
        body("${{ vars.tip }}", allow_zero=True), variables={"tip": "0 ETH"}
    )
    pay = step(result, "pay")
    assert "zero send is refused" not in (pay.reason or "")
    if pay.status is StepStatus.OK:  # the sandbox accepted a zero transfer
        assert outputs(result, "pay")["raw"] == "0"


async def test_a_normal_amount_from_the_same_playbook_is_sent(engine: Engine) -> None:
    result, _ = await engine.run(body("${{ vars.tip }}"))
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "pay")["raw"] == "10000000000000000"
    assert engine.sandbox.transaction_count() == 1
