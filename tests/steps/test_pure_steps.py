"""The two steps that need no daemon (assert, log) run against a real evaluation context."""

from __future__ import annotations

from decimal import Decimal

import pytest

from runner.engine.steps import RUNNERS
from runner.errors import StepFailed
from runner.playbook import Amount, EvalContext, UnitTable, evaluate, load_playbook_text, render
from runner.playbook.expressions import Expression, Template
from runner.playbook.steps.assert_ import AssertStep
from runner.playbook.steps.log import LogStep
from runner.playbook.values import Value

PLAYBOOK = """\
version: 1
name: t
daemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}", wallet: main}
wallets: {main: {name: main, network: ethereum-sepolia}}
vars: {floor: "0.05 ETH"}
steps:
  - id: agent
    balance: {}
  - assert: steps.agent.amount >= vars.floor
    message: "agent has only ${{ steps.agent.amount }}"
  - log: "agent holds ${{ steps.agent.amount }}"
    level: warning
"""


class Context:
    """The slice of the engine's step context that pure steps use."""

    def __init__(self, agent: Amount) -> None:
        self.values = EvalContext(
            UnitTable(),
            vars={"floor": Amount(Decimal("0.05"), "ETH")},
            steps={"agent": {"amount": agent, "skipped": False}},
        )
        self.lines: list[tuple[str, str]] = []

    def evaluate(self, expression: Expression) -> Value:
        return evaluate(expression, self.values)

    def render(self, template: Template) -> Value:
        return render(template, self.values)

    def log(self, level: str, message: str) -> None:
        self.lines.append((level, message))

    def known_only_in_a_run(self, expressions: object) -> list[str]:
        return []  # not a plan


def steps() -> tuple[AssertStep, LogStep]:
    playbook = load_playbook_text(PLAYBOOK, "p.yaml")
    check, note = playbook.steps[1], playbook.steps[2]
    assert isinstance(check, AssertStep) and isinstance(note, LogStep)
    return check, note


async def test_assert_passes_or_fails_the_step_with_its_message() -> None:
    check, _ = steps()
    run = RUNNERS[check.kind]
    assert await run(check, Context(Amount(Decimal("0.06"), "ETH"))) == {
        "passed": True,
        "message": None,
    }
    with pytest.raises(StepFailed) as failed:
        await run(check, Context(Amount(Decimal("0.01"), "ETH")))
    assert failed.value.message == "agent has only 0.01 ETH"
    assert failed.value.output == {"passed": False, "message": "agent has only 0.01 ETH"}


async def test_log_renders_and_writes_at_its_level() -> None:
    _, note = steps()
    context = Context(Amount(Decimal("0.25"), "ETH"))
    assert await RUNNERS[note.kind](note, context) == {"message": "agent holds 0.25 ETH"}
    assert context.lines == [("warning", "agent holds 0.25 ETH")]


async def test_assert_without_message_names_the_condition() -> None:
    check = AssertStep.model_validate({"assert": "steps.agent.amount > vars.floor"})
    with pytest.raises(StepFailed, match=r"^assertion failed: steps.agent.amount > vars.floor$"):
        await RUNNERS[check.kind](check, Context(Amount(Decimal("0.05"), "ETH")))
