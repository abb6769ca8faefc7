"""Expressions: exact Decimal arithmetic, amounts, templates, functions, run-time rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from runner.playbook import Amount, EvalContext, EvaluationError, UnitTable, evaluate, render
from runner.playbook.expressions import Expression, ExpressionError, Template
from runner.playbook.exprtypes import BOOL, NUMBER, STRING, TIME, amount_of
from runner.playbook.typecheck import Scope, StepInfo, check_expression, check_template

UNITS = UnitTable({"USDC": 6})
NOON = datetime(2026, 1, 1, 12, tzinfo=UTC)


def context() -> EvalContext:
    return EvalContext(
        UNITS,
        vars={"floor": Amount(Decimal("0.05"), "ETH"), "ratio": Decimal("0.5"), "who": "agent"},
        steps={
            "agent": {"amount": Amount(Decimal("0.01"), "ETH"), "skipped": False},
            "fund": {"sent": None, "skipped": True},
            "wallet": {"balances": {"USDC": Amount(Decimal(250), "USDC")}},
            "other": {"amount": Amount(Decimal(3), "USDC")},
        },
        env={"WHO": "ops"},
        run={"id": "r1", "scheduled": NOON},
        clock=lambda: NOON,
    )


def value(source: str) -> object:
    return evaluate(Expression.parse(source), context())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("0.1 + 0.2 == 0.3", True),
        ("1.10 * 3", Decimal("3.30")),
        ("7 // 2", Decimal(3)),
        ("7 % 4", Decimal(3)),
        ("2 ** 10", Decimal(1024)),
        ("-vars.ratio", Decimal("-0.5")),
        ("steps.agent.amount < vars.floor", True),
        ("vars.floor - steps.agent.amount", Amount(Decimal("0.04"), "ETH")),
        ("vars.floor * 2", Amount(Decimal("0.10"), "ETH")),
        ("vars.floor / steps.agent.amount", Decimal(5)),
        ("steps.fund.sent", None),
        ("steps.fund.skipped and not steps.agent.skipped", True),
        ("steps.wallet.balances.USDC > amount('100 USDC')", True),
        ("steps.wallet.balances.DAI", Amount(Decimal(0), "DAI")),
        ("1 if steps.fund.sent else 2", Decimal(2)),
        ("env.WHO + '-' + vars.who", "ops-agent"),
        ("'CONFIRMED' in ['CONFIRMED', 'FAILED']", True),
        ("'x' not in 'abc'", True),
        ("1 < 2 < 3", True),
        ("3 > 2 > 2", False),
        ("true or 1/0 == 1", True),  # short-circuit: the right side never runs
        ("null == null", True),
        ("min(3, 1, 2)", Decimal(1)),
        ("max(vars.floor, amount('1 gwei'))", Amount(Decimal("0.05"), "ETH")),
        ("len('abc') + len([1, 2])", Decimal(5)),
        ("abs(-2)", Decimal(2)),
        ("abs(amount(-1, 'ETH'))", Amount(Decimal(1), "ETH")),
        ("amount(1500, 'wei')", Amount(Decimal("1.5E-15"), "ETH")),
        ("units(vars.floor)", Decimal("0.05")),
        ("raw(vars.floor)", Decimal(50_000_000_000_000_000)),
        ("symbol(vars.floor)", "ETH"),
        ("round_down(amount('1 ETH') / 3)", Amount(Decimal("0.333333333333333333"), "ETH")),
        ("seconds('1h30m')", Decimal(5400)),
        ("now() - run.scheduled", Decimal(0)),
        ("now() + 60 > run.scheduled", True),
    ],
)
def test_evaluation(source: str, expected: object) -> None:
    assert value(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "steps.agent.amount < steps.other.amount",
            "cannot compare an amount of ETH and an amount of USDC",
        ),
        (
            "steps.agent.amount + steps.other.amount",
            "cannot add or subtract an amount of ETH and an amount of USDC",
        ),
        ("steps.agent.amount < 1", "cannot compare an amount (ETH) with a number"),
        ("1 / 0", "division by zero"),
        ("(10 ** 100) ** 100", "number too large"),
        ("steps.agent.nope", "steps.agent.nope is not set"),
        ("steps.fund.sent + 1", "'+' is not defined for null and a number"),
        ("raw(amount('1 ETH') / 3)", "has 80 decimal places; ETH has only 18"),
        ("'a' if 1 else 'b'", "expected true or false, got a number"),
    ],
)
def test_run_time_errors(source: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=re.escape(message)):
        value(source)


def test_templates_keep_type_when_whole_and_render_text_otherwise() -> None:
    assert render(Template.parse("${{ vars.floor }}"), context()) == Amount(Decimal("0.05"), "ETH")
    assert render(Template.parse("  ${{ vars.floor }} "), context()) == Amount(
        Decimal("0.05"), "ETH"
    )
    text = render(
        Template.parse("had ${{ steps.agent.amount }}, sent ${{ steps.fund.sent }}: ${{ 1 < 2 }}"),
        context(),
    )
    assert text == "had 0.01 ETH, sent : true"
    assert render(Template.parse("plain"), context()) == "plain"


def test_template_errors_carry_the_offset_in_the_string() -> None:
    with pytest.raises(ExpressionError) as caught:
        Template.parse("a ${{ vars.x + }} b")
    assert caught.value.offset == len("a ${{ vars.x +")  # just after the dangling operator


SCOPE = Scope(
    roots=frozenset({"vars", "steps", "env", "run"}),
    where="steps[2]",
    units=UNITS,
    vars={"floor": amount_of("ETH"), "label": STRING},
    env=frozenset({"WHO"}),
    steps={
        "agent": StepInfo(0, {"amount": amount_of("ETH"), "sent": BOOL}),
        "usdc": StepInfo(1, {"amount": amount_of("USDC")}),
        "later": StepInfo(3, {"count": NUMBER}),
    },
    step_index=2,
)


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("steps.agent.amount < vars.floor", BOOL),
        ("steps.agent.amount - vars.floor", amount_of("ETH")),
        ("units(steps.usdc.amount) * 2", NUMBER),
        ("env.WHO", STRING),
        ("run.scheduled", TIME),
    ],
)
def test_static_types(source: str, kind: object) -> None:
    assert check_expression(Expression.parse(source), SCOPE) == kind


@pytest.mark.parametrize(
    ("source", "message", "offset"),
    [
        (
            "steps.agent.amount < steps.usdc.amount",
            "cannot compare an amount of ETH and an amount of USDC",
            0,
        ),
        ("1 + steps.nope.amount", "unknown step 'nope'", 4),
        ("steps.later.count", "step 'later' is used before it runs (it is steps[3])", 0),
        ("steps.agent.amout", "step 'agent' has no output 'amout' (did you mean 'amount'?)", 0),
        ("vars.flor", "unknown variable vars.flor (did you mean 'floor'?)", 0),
        ("env.HOME", "env.HOME is not declared: list it under env:", 0),
        ("run.date", "unknown field run.date", 0),
        ("vars.label.length", "string has no field 'length'", 0),
        ("not vars.label", "'not' needs true/false, not a string", 0),
        ("amount(1, vars.label)", "the unit must be written in the expression as a string", 0),
        ("steps.agent", "steps.agent needs a field", 0),
    ],
)
def test_static_errors(source: str, message: str, offset: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_expression(Expression.parse(source), SCOPE)
    assert message in caught.value.message
    assert caught.value.offset == offset


def test_roots_outside_their_section_are_refused() -> None:
    scope = Scope(roots=frozenset({"env"}), where="daemon:", units=UNITS, env=frozenset({"URL"}))
    with pytest.raises(ExpressionError, match="'vars' is not available in daemon:"):
        check_template(Template.parse("${{ vars.x }}"), scope)
