"""Hostile numbers for the comparison rules (issue #19 part 3): the edges a property test
over small integers does not reach — a uint256's largest raw amount (as a step's value and
as a literal), negative zero, Decimal("1.0") against 1, lists that mix numbers, amounts,
text and booleans, and values read back from the ledger on --resume."""

from __future__ import annotations

from decimal import Decimal

import pytest

from runner.engine.values import decode, encode
from runner.playbook import Amount, EvalContext, EvaluationError, UnitTable, evaluate
from runner.playbook.amounts import MAX_RAW, AmountError, parse_amount_text
from runner.playbook.expressions import Expression
from runner.playbook.values import SmallestUnits, Value, normalize

UNITS = UnitTable({"USDC": 6})
TOP = MAX_RAW  # 2**256 - 1: 78 digits


def _steps() -> dict[str, dict[str, Value]]:
    fresh = {
        "raw": SmallestUnits(TOP),
        "below": SmallestUnits(TOP - 1),
        "one": SmallestUnits(1),
        "zero": SmallestUnits(0),
        "negzero": Decimal("-0"),
        "one_point_o": Decimal("1.0"),
        "decimals": 18,
        "sent": True,
        "amount": Amount(Decimal("0.5"), "ETH"),
        "mixed": [1, "0.5 ETH", True, Decimal("2.50"), Amount(Decimal("0.5"), "ETH")],
    }
    resumed = decode(encode(fresh))  # the same outputs as --resume reads them back
    assert isinstance(resumed, dict)
    return {
        "s": {k: normalize(v) for k, v in fresh.items()},
        "r": {k: normalize(v) for k, v in resumed.items()},
    }


@pytest.mark.parametrize("at", ["s", "r"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the largest raw amount a chain holds, exactly, on both sides and through arithmetic
        (f"steps.@.raw == {TOP}", True),
        (f"steps.@.raw != {TOP}", False),
        (f"steps.@.raw == {TOP - 1}", False),
        (f"steps.@.raw in [{TOP - 1}, {TOP}]", True),
        (f"steps.@.raw not in [{TOP - 1}]", True),
        (f"steps.@.raw > {TOP - 1}", True),
        ("steps.@.raw - 1 == steps.@.below", True),
        ("steps.@.raw - 1 == steps.@.raw", False),
        ("steps.@.below + steps.@.one == steps.@.raw", True),
        ("steps.@.raw + 1 > steps.@.raw", True),
        (f'raw(amount("{TOP} wei")) == steps.@.raw', True),
        (f'amount("{TOP} wei") > amount("1 ETH")', True),
        # negative zero is zero
        ("steps.@.negzero == 0", True),
        ("steps.@.negzero == steps.@.zero", True),
        ("steps.@.negzero in [0]", True),
        ("steps.@.zero in [-0.0]", True),
        ("steps.@.negzero != 0", False),
        ("-0 == 0 and 0 - 0 == -0", True),
        # Decimal("1.0") is 1, wherever each comes from
        ("steps.@.one_point_o == 1", True),
        ("steps.@.one_point_o == steps.@.one", True),
        ("steps.@.one_point_o in [steps.@.one]", True),
        ("steps.@.one in [1.00, 2]", True),
        ("steps.@.decimals == 18.000", True),
        ("steps.@.decimals in [18.0]", True),
        # lists mixing kinds: a number is found only among numbers, an amount among amounts
        ("2.5 in steps.@.mixed", True),
        ("1 in steps.@.mixed", True),
        ("0.5 in steps.@.mixed", False),  # 0.5 ETH is an amount, "0.5 ETH" is text
        ('amount("0.5 ETH") in steps.@.mixed', True),
        ('amount("0.50 ETH") in steps.@.mixed', True),
        ('amount("2.5 USDC") in steps.@.mixed', False),
        ('"0.5 ETH" in steps.@.mixed', True),
        ("steps.@.amount in [0.5, 500000000000000000]", False),
        ('steps.@.amount in ["0.5 ETH"]', False),
        # booleans are never numbers, in a list or out of one
        ("steps.@.sent in [1]", False),
        ("1 in [true]", False),
        ("0 in [false]", False),
        ("true in steps.@.mixed", True),
        ("steps.@.one not in [true, false]", True),
        ("[1, true] == [1.0, true]", True),
        ("[1, true] == [true, 1]", False),
    ],
)
def test_hostile_number_comparisons(at: str, text: str, expected: bool) -> None:
    context = EvalContext(UNITS, steps=_steps())
    assert evaluate(Expression.parse(text.replace("@", at)), context) is expected, text


def test_a_uint256_literal_can_be_written() -> None:
    """An unlimited ERC-20 allowance is 2**256 - 1: its 78 digits are a valid literal and a
    valid amount; more than 80 digits is still refused."""
    assert parse_amount_text(f"{TOP} wei").number == TOP
    with pytest.raises(AmountError, match="more than 80 digits"):
        parse_amount_text(f"{TOP}000 wei")
    assert evaluate(Expression.parse(f"{TOP} == {TOP}.0"), EvalContext(UNITS)) is True


@pytest.mark.parametrize(
    ("text", "kind"),
    [('1 in "abc"', "a number"), ("steps.s.raw in steps.s.memo", "a number")],
)
def test_a_number_in_a_string_says_what_is_wrong(text: str, kind: str) -> None:
    """It used to say "'in' needs a list or a string on the right, not a string"."""
    steps = {"s": {"raw": SmallestUnits(5), "memo": "paid 5"}}
    with pytest.raises(EvaluationError) as error:
        evaluate(Expression.parse(text), EvalContext(UNITS, steps=steps))
    message = str(error.value)
    assert f"'in' on a string looks for text in it, not {kind}" in message
    assert "not a string" not in message
