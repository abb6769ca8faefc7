"""Amounts: parsing, unit resolution and exact smallest-unit conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest

from runner.playbook.amounts import Amount, AmountError, RawAmount, UnitTable, parse_amount_text

UNITS = UnitTable({"USDC": 6})


@pytest.mark.parametrize(
    ("text", "symbol", "raw"),
    [
        ("0.05 ETH", "ETH", 50_000_000_000_000_000),
        ("1500 wei", "ETH", 1500),
        ("2 gwei", "ETH", 2_000_000_000),
        ("250 USDC", "USDC", 250_000_000),
        ("0.000001 USDC", "USDC", 1),
        ("12 lamports", "SOL", 12),
        ("1.5 SOL", "SOL", 1_500_000_000),
        ("3 drops", "XRP", 3),
        ("0.1 POL", "POL", 100_000_000_000_000_000),
        ("1_000 USDC", "USDC", 1_000_000_000),
        ("1_000_000.000_001 USDC", "USDC", 1_000_000_000_001),
        (".5 ETH", "ETH", 500_000_000_000_000_000),
        (
            "123456789012345678901234567890.123456789012345678 ETH",
            "ETH",
            123456789012345678901234567890123456789012345678,
        ),
    ],
)
def test_conversion_to_smallest_unit_is_exact(text: str, symbol: str, raw: int) -> None:
    amount = UNITS.resolve(parse_amount_text(text))
    assert amount.symbol == symbol
    assert amount.to_raw(UNITS.decimals(symbol)) == raw


def test_raw_form_is_the_smallest_unit() -> None:
    amount = UNITS.resolve(RawAmount(1500, "USDC"))
    assert amount == Amount(Decimal("0.0015"), "USDC")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.0000001 USDC", "'1.0000001 USDC' has 7 decimal places but USDC allows only 6"),
        ("0.5 wei", "'0.5 wei' has 1 decimal place but wei allows only 0"),
        ("1 DOGE", "unknown unit 'DOGE'"),
        ("1 usdc", "unknown unit 'usdc' (did you mean 'USDC'?)"),
    ],
)
def test_resolution_never_rounds_and_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(AmountError) as caught:
        UNITS.resolve(parse_amount_text(text))
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("text", ["0.05", "ETH", "-1 ETH", "1e18 wei", "0.05ETH", "", "1 2 ETH"])
def test_shape_errors(text: str) -> None:
    with pytest.raises(AmountError, match="expected an amount like"):
        parse_amount_text(text)


# Python's Decimal() reads every one of these as a number; none is a way to write one.
LAX_DECIMALS = ["1__0 ETH", "_1 ETH", "1_ ETH", "1_.5 ETH", "1._5 ETH", "1.5_ ETH", "._5 ETH"]


@pytest.mark.parametrize("text", LAX_DECIMALS)
def test_underscores_only_group_digits(text: str) -> None:
    with pytest.raises(AmountError, match=r"'_' only between two digits"):
        parse_amount_text(text)


@pytest.mark.parametrize(
    "text", ["\u0663 ETH", "\uff11 ETH", "1\u066b5 ETH", "NaN ETH", "Infinity ETH", "+1 ETH"]
)
def test_only_ascii_decimal_digits_make_an_amount(text: str) -> None:
    """Decimal() also takes Arabic-Indic and full-width digits, NaN and a sign."""
    with pytest.raises(AmountError, match="expected an amount like"):
        parse_amount_text(text)


def test_the_json_schema_pattern_and_the_parser_agree() -> None:
    """Editors that validate against `waiaas-run schema` accept the same amount texts."""
    import re

    from runner.playbook.amounts import AMOUNT_TEXT_PATTERN

    corpus = [
        *LAX_DECIMALS,
        "0.05 ETH",
        "1_000 USDC",
        ".5 ETH",
        " 1  ETH ",
        "1e3 ETH",
        "1 2 ETH",
        "-1 ETH",
        "0.0_5 ETH",
        "1. ETH",
        "1,5 ETH",
        "\u0661 ETH",
        "1 ETH ETH",
    ]
    for text in corpus:
        try:
            parse_amount_text(text)
            parsed = True
        except AmountError:
            parsed = False
        assert (re.fullmatch(AMOUNT_TEXT_PATTERN, text) is not None) is parsed, text


def test_runtime_amount_with_too_many_places_is_an_error() -> None:
    with pytest.raises(AmountError, match="has 19 decimal places; ETH has only 18"):
        Amount(Decimal("0.0000000000000000001"), "ETH").to_raw(18)


def test_too_many_digits_is_refused() -> None:
    with pytest.raises(AmountError, match="more than 80 digits"):
        parse_amount_text("1" * 81 + " wei")


def test_formatting_never_uses_scientific_notation() -> None:
    assert str(Amount(Decimal("1E-18"), "ETH")) == "0.000000000000000001 ETH"
    assert str(Amount(Decimal("5.000"), "ETH")) == "5 ETH"
