"""Numbers compare by value whatever produced them (issue #19 part 3).

``steps.a.raw == 20000000000000000`` was false while ``>=`` and ``<=`` both held: ``==``
also required the same Python type, and a raw amount is a ``SmallestUnits`` (a Decimal
subclass) where a literal is a plain ``Decimal``. The property test below writes every
pair of number sources — a balance's, a send's and an asset's raw amount, ``decimals``, a
count, an integer literal, a decimal literal (with trailing zeros), arithmetic results and
function results — on both sides of every comparison operator, and checks the answer
against Decimal arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.client import to_token_units
from runner.engine.values import decode, encode
from runner.playbook import Amount, EvalContext, EvaluationError, UnitTable, evaluate
from runner.playbook.expressions import Expression
from runner.playbook.values import SmallestUnits, Value, normalize

UNITS = UnitTable({"USDC": 6})

# A source writes the number ``n`` (a non-negative integer) as an expression; ``steps``
# receives the step outputs it reads, shaped as the engine stores them (normalize()).
Source = Callable[[int, str, dict[str, dict[str, Value]]], str]


def _step(steps: dict[str, dict[str, Value]], step_id: str, output: dict[str, Any]) -> None:
    steps[step_id] = {name: normalize(value) for name, value in output.items()}


def balance_raw(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    _step(steps, f"bal_{side}", {"raw": SmallestUnits(n), "decimals": 18, "symbol": "ETH"})
    return f"steps.bal_{side}.raw"


def send_raw(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    _step(steps, f"send_{side}", {"raw": SmallestUnits(n), "sent": True})
    return f"steps.send_{side}.raw"


def resumed_send_raw(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    # a send read back from the ledger on --resume (typed JSON)
    output = decode(encode({"raw": SmallestUnits(n), "sent": True}))
    assert isinstance(output, dict)
    _step(steps, f"resumed_{side}", output)
    return f"steps.resumed_{side}.raw"


def asset_raw(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    balances = {"USDC": Amount(to_token_units(n, 6), "USDC")}
    _step(steps, f"assets_{side}", {"balances": balances, "count": 1})
    return f"raw(steps.assets_{side}.balances.USDC)"


def decimals(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    _step(steps, f"dec_{side}", {"decimals": n})  # an int, as a balance step reports it
    return f"steps.dec_{side}.decimals"


def count(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    _step(steps, f"pending_{side}", {"count": n, "ids": ["x"] * min(n, 3)})
    return f"steps.pending_{side}.count"


def int_literal(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    return str(n)


def decimal_literal(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    return f"{n}.000"  # Decimal("5.000") has another exponent than Decimal(5)


def arithmetic(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    return f"({n * 4} / 2 - {n})"  # division's result carries its own exponent


def raw_arithmetic(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    return f"({balance_raw(n + 1, side, steps)} - 1)"


def function(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    return f"max(abs({n}), 0)"


def units_function(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    return f'raw(amount("{n} wei"))'


def decimal_var(n: int, side: str, steps: dict[str, dict[str, Value]]) -> str:
    _step(steps, f"var_{side}", {"value": Decimal(f"{n}.0")})
    return f"steps.var_{side}.value"


SOURCES: dict[str, Source] = {
    source.__name__: source
    for source in (
        balance_raw,
        send_raw,
        resumed_send_raw,
        asset_raw,
        decimals,
        count,
        int_literal,
        decimal_literal,
        arithmetic,
        raw_arithmetic,
        function,
        units_function,
        decimal_var,
    )
}
OPERATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "in": lambda a, b: a == b,  # a in [b]
    "not in": lambda a, b: a != b,
}
NOON = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _judge(left: str, op: str, right: str, steps: dict[str, dict[str, Value]]) -> Value:
    text = f"{left} {op} [{right}]" if op in ("in", "not in") else f"{left} {op} {right}"
    context = EvalContext(UNITS, steps=steps, clock=lambda: NOON)
    return evaluate(Expression.parse(text), context)


# numbers the way they occur: equal, neighbours, 0, wei-sized (past 2**64)
_NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=10**30),
    st.sampled_from([0, 1, 18, 2**53 + 1, 2**64, 20_000_000_000_000_000]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    left_source=st.sampled_from(sorted(SOURCES)),
    right_source=st.sampled_from(sorted(SOURCES)),
    op=st.sampled_from(sorted(OPERATORS)),
    a=_NUMBERS,
    delta=st.sampled_from([0, 0, 1, -1, 7]),
)
def test_numbers_compare_by_value_whatever_produced_them(
    left_source: str, right_source: str, op: str, a: int, delta: int
) -> None:
    b = max(0, a + delta)  # equal values half of the time
    steps: dict[str, dict[str, Value]] = {}
    left = SOURCES[left_source](a, "l", steps)
    right = SOURCES[right_source](b, "r", steps)
    assert _judge(left, op, right, steps) is OPERATORS[op](Decimal(a), Decimal(b)), (
        f"{left_source}({a}) {op} {right_source}({b})"
    )


@pytest.mark.parametrize("left_source", sorted(SOURCES))
@pytest.mark.parametrize("right_source", sorted(SOURCES))
@pytest.mark.parametrize("op", sorted(OPERATORS))
def test_every_pair_of_sources_and_operators_on_the_issue_number(
    left_source: str, right_source: str, op: str
) -> None:
    """Every combination at least once, on equal values (the case that was wrong)."""
    n = 20_000_000_000_000_000
    steps: dict[str, dict[str, Value]] = {}
    left = SOURCES[left_source](n, "l", steps)
    right = SOURCES[right_source](n, "r", steps)
    assert _judge(left, op, right, steps) is OPERATORS[op](Decimal(n), Decimal(n))


def test_the_issue_expressions() -> None:
    steps: dict[str, dict[str, Value]] = {}
    raw = balance_raw(20_000_000_000_000_000, "a", steps)
    for text, expected in (
        (f"{raw} == 20000000000000000", True),
        (f"{raw} >= 20000000000000000 and {raw} <= 20000000000000000", True),
        (f"{raw} != 20000000000000000", False),
        (f"{raw} != 0", True),
        (f"{raw} in [1, 20000000000000000]", True),
        (f"{raw} not in [20000000000000000]", False),
    ):
        context = EvalContext(UNITS, steps=steps)
        assert evaluate(Expression.parse(text), context) is expected, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a boolean is never a number: in a list it is not found (comparing the two
        # directly is a type error, below)
        ("1 in [true]", False),
        ("steps.s.sent in [1, 0]", False),
        ("0 in [false]", False),
        # amounts equal only amounts of the same token; units written differently agree
        ('amount("1 ETH") == amount("1000000000 gwei")', True),
        ('amount("1 ETH") in [amount("1.000 ETH")]', True),
        ('steps.s.amount in [amount("1 USDC")]', False),
        # lists compare element by element, by value
        ("[steps.s.raw, 1] == [1000000000000000000, 1.0]", True),
        ("[steps.s.raw] == [true]", False),
    ],
)
def test_kinds_stay_apart(text: str, expected: bool) -> None:
    steps = {
        "s": {
            "sent": True,
            "raw": SmallestUnits(10**18),
            "amount": Amount(Decimal(1), "ETH"),
        }
    }
    assert evaluate(Expression.parse(text), EvalContext(UNITS, steps=steps)) is expected


@pytest.mark.parametrize("text", ["steps.s.sent == 1", "steps.s.sent != 0", "true >= 1"])
def test_a_boolean_against_a_number_is_a_type_error(text: str) -> None:
    steps = {"s": {"sent": True}}
    with pytest.raises(EvaluationError, match="cannot compare a bool and a number"):
        evaluate(Expression.parse(text), EvalContext(UNITS, steps=steps))
