"""The quickstart playbook means what the README says it does against the sandbox fixture."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from runner.playbook import (
    Amount,
    EvalContext,
    Facts,
    Template,
    evaluate,
    load_playbook,
    render,
    truth,
)
from runner.playbook.steps.send import SendStep

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml"


def test_quickstart_tops_up_an_agent_below_the_floor_with_a_delay_tier_amount() -> None:
    playbook = load_playbook(QUICKSTART)
    facts = Facts(playbook)
    fund = playbook.steps[1]
    assert isinstance(fund, SendStep) and fund.if_ is not None
    context = EvalContext(
        facts.units,
        vars=facts.static_vars,
        steps={"agent": {"amount": Amount(Decimal("0.02"), "ETH"), "skipped": False}},
    )
    assert truth(evaluate(fund.if_, context)) is True
    assert isinstance(fund.send.amount, Template)  # "${{ vars.top_up }}"
    top_up = render(fund.send.amount, context)
    assert top_up == Amount(Decimal("0.08"), "ETH")
    # the sandbox fixture's DELAY tier: above 0.05 ETH (notify_max), at most 0.1 ETH (delay_max)
    assert isinstance(top_up, Amount)
    assert 50_000_000_000_000_000 < top_up.to_raw(18) <= 100_000_000_000_000_000


def test_quickstart_skips_the_top_up_when_the_agent_has_enough() -> None:
    playbook = load_playbook(QUICKSTART)
    facts = Facts(playbook)
    condition = playbook.steps[1].if_
    assert condition is not None
    context = EvalContext(
        facts.units,
        vars=facts.static_vars,
        steps={"agent": {"amount": Amount(Decimal("0.5"), "ETH"), "skipped": False}},
    )
    assert truth(evaluate(condition, context)) is False
