"""Amounts with units: parsing ``"0.05 ETH"``, the unit table, exact smallest-unit conversion.

An amount is a :class:`~decimal.Decimal` in token units plus the token's symbol. Converting
to the smallest unit (wei, lamports, drops, token base units) is exact: more decimal places
than the token has is an error, never a rounding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, DecimalException, Inexact, InvalidOperation, Overflow, Rounded

from runner.errors import RunnerError
from runner.playbook.diagnostics import did_you_mean

__all__ = [
    "AMOUNT_TEXT_PATTERN",
    "MAX_RAW",
    "NATIVE_SYMBOLS",
    "NATIVE_UNITS",
    "Amount",
    "AmountError",
    "AmountLiteral",
    "RawAmount",
    "Unit",
    "UnitTable",
    "parse_amount_text",
]

# network -> symbol of its native coin (waiaas-api.md §6)
NATIVE_SYMBOLS: dict[str, str] = {
    **dict.fromkeys(("solana-mainnet", "solana-devnet", "solana-testnet"), "SOL"),
    **dict.fromkeys(
        (
            "ethereum-mainnet",
            "ethereum-sepolia",
            "arbitrum-mainnet",
            "arbitrum-sepolia",
            "optimism-mainnet",
            "optimism-sepolia",
            "base-mainnet",
            "base-sepolia",
        ),
        "ETH",
    ),
    **dict.fromkeys(("polygon-mainnet", "polygon-amoy"), "POL"),
    **dict.fromkeys(("hyperevm-mainnet", "hyperevm-testnet"), "HYPE"),
    **dict.fromkeys(("xrpl-mainnet", "xrpl-testnet", "xrpl-devnet"), "XRP"),
}


@dataclass(frozen=True)
class Unit:
    """A unit name: which token it counts, that token's decimals, and the unit's own scale."""

    symbol: str
    decimals: int  # of the token: 18 for ETH
    exponent: int  # one unit = 10**exponent smallest units: ETH 18, gwei 9, wei 0


def _native(symbol: str, decimals: int, **sub_units: int) -> dict[str, Unit]:
    units = {symbol: Unit(symbol, decimals, decimals)}
    units.update({name: Unit(symbol, decimals, exponent) for name, exponent in sub_units.items()})
    return units


# wei and gwei count ETH; POL and HYPE amounts are written in POL / HYPE or as {raw, token}.
NATIVE_UNITS: dict[str, Unit] = {
    **_native("ETH", 18, gwei=9, wei=0),
    **_native("SOL", 9, lamports=0, lamport=0),
    **_native("POL", 18),
    **_native("HYPE", 18),
    **_native("XRP", 6, drops=0, drop=0),
}


# Every scaling goes through this context: a rounding of any kind raises instead of happening.
EXACT = Context(prec=100, traps=[Inexact, Rounded, Overflow, InvalidOperation])
# Room for MAX_RAW below (78 digits) with a decimal point and a sign to spare: a literal
# such as a raw uint256 maximum (an unlimited ERC-20 allowance) can be written and compared.
MAX_DIGITS = 80
# No chain holds more smallest units than a uint256 can count (EVM balances are uint256;
# Solana's and XRPL's limits are far lower), so no amount beyond it can be sent or held.
MAX_RAW = 2**256 - 1


def _places(value: Decimal) -> str:
    text = format_decimal(value)
    count = len(text.partition(".")[2])
    return f"{count} decimal place{'' if count == 1 else 's'}"


def _whole_units(value: Decimal, exponent: int, what: str) -> Decimal:
    """``value`` scaled by ``10**exponent``, exactly, and within what a chain can hold.

    Raises :class:`AmountError` (never a decimal trap) for any value that cannot be sent.
    """
    if not value.is_finite():
        raise AmountError(f"{what} is not a number")
    if value and value.adjusted() + exponent > 78:  # 2**256 has 78 digits
        raise AmountError(f"{what} is more than any chain can hold (2^256-1 smallest units)")
    try:
        raw = value.scaleb(exponent, EXACT)
    except DecimalException:
        raise AmountError(f"{what} cannot be written in whole smallest units") from None
    if abs(raw) > MAX_RAW:
        raise AmountError(f"{what} is more than any chain can hold (2^256-1 smallest units)")
    return raw


class AmountError(RunnerError, ValueError):
    """An amount that cannot be used as written (the message says why and what to write)."""


@dataclass(frozen=True)
class Amount:
    """A value in token units (``Decimal("0.05")``) of one token (``"ETH"``)."""

    value: Decimal
    symbol: str

    def __str__(self) -> str:
        return f"{format_decimal(self.value)} {self.symbol}"

    def check_range(self, decimals: int) -> None:
        """Raises :class:`AmountError` when no chain could hold this amount."""
        _whole_units(self.value, decimals, self.short())

    def short(self) -> str:
        """``str(self)``, or scientific notation when that would be a wall of digits."""
        text = str(self)
        return text if len(text) <= 60 else f"{format(self.value, '.6g')} {self.symbol}"

    def to_raw(self, decimals: int) -> int:
        """The exact smallest-unit integer; raises :class:`AmountError` if it is not whole."""
        raw = _whole_units(self.value, decimals, self.short())
        if raw != raw.to_integral_value():
            raise AmountError(
                f"{self} has {_places(self.value)}; {self.symbol} has only {decimals}"
            )
        return int(raw)


def format_decimal(value: Decimal) -> str:
    """``Decimal("0.0500")`` -> ``"0.05"``; never scientific notation, never an exception
    (exact digit formatting, no arithmetic context involved)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# Digits may be grouped by single underscores ("1_000_000 wei"), as Python writes them;
# Decimal() itself is laxer ("1__0", "_1", "1_" all read as numbers), which a typo must
# not ride on into a send.
_DIGITS = r"[0-9]+(?:_[0-9]+)*"
_NUMBER = rf"{_DIGITS}(?:\.{_DIGITS})?|\.{_DIGITS}"
_AMOUNT = re.compile(rf"^\s*(?P<number>{_NUMBER})\s+(?P<unit>\S+)\s*$")
# the same shape for the JSON schema (ECMA regex: no named groups), so editors agree
AMOUNT_TEXT_PATTERN = rf"^\s*(?:{_NUMBER})\s+\S+\s*$"


@dataclass(frozen=True)
class AmountLiteral:
    """An amount as written in the playbook (``"1500 wei"``), before its unit is resolved."""

    number: Decimal
    unit: str
    text: str


@dataclass(frozen=True)
class RawAmount:
    """An explicit smallest-unit integer: ``{raw: 1500, token: ETH}``."""

    raw: int
    token: str


def parse_amount_text(text: str) -> AmountLiteral:
    """Checks the shape ``"<number> <unit>"``; units are resolved later (tokens: may add some)."""
    match = _AMOUNT.match(text)
    if match is None:
        hint = ""
        if text.strip().startswith("-"):
            hint = " (negative amounts are not allowed)"
        elif "_" in text.strip().partition(" ")[0]:
            hint = " ('_' only between two digits, once: 1_000)"
        raise AmountError(
            f'expected an amount like "0.05 ETH" or "1500 wei": a number, a space, a unit{hint}'
        )
    if len(match["number"]) > MAX_DIGITS:
        raise AmountError(f"amount has more than {MAX_DIGITS} digits")
    number = Decimal(match["number"])
    return AmountLiteral(number, match["unit"], text.strip())


class UnitTable:
    """Native units plus the playbook's ``tokens:`` (symbol -> decimals)."""

    def __init__(self, tokens: Mapping[str, int] | None = None) -> None:
        self.units = dict(NATIVE_UNITS)
        for symbol, decimals in (tokens or {}).items():
            self.units[symbol] = Unit(symbol, decimals, decimals)

    def unit(self, name: str) -> Unit:
        found = self.units.get(name)
        if found is not None:
            return found
        suggestion = did_you_mean(name, self.units)  # "eth" -> ETH, "ETHH" -> ETH
        raise AmountError(
            f"unknown unit {name!r}{suggestion}; known units: {', '.join(sorted(self.units))}"
            " (declare other tokens under tokens:)"
        )

    def decimals(self, symbol: str) -> int:
        return self.unit(symbol).decimals

    def resolve(self, literal: AmountLiteral | RawAmount) -> Amount:
        """Resolves the unit and checks the amount is a whole number of smallest units."""
        if isinstance(literal, RawAmount):
            unit = self.unit(literal.token)
            if unit.exponent != unit.decimals:
                raise AmountError(
                    f"token: expects a token symbol such as {unit.symbol!r}, not a sub-unit"
                )
            if literal.raw < 0 or literal.raw > MAX_RAW:
                raise AmountError("raw must be a whole number from 0 to 2^256-1")
            return Amount(Decimal(literal.raw).scaleb(-unit.decimals, EXACT), unit.symbol)
        unit = self.unit(literal.unit)
        raw = _whole_units(literal.number, unit.exponent, repr(literal.text))
        if raw != raw.to_integral_value():
            raise AmountError(
                f"{literal.text!r} has {_places(literal.number)} but {literal.unit} allows only "
                f"{unit.exponent}; amounts are never rounded"
            )
        return Amount(raw.scaleb(-unit.decimals, EXACT), unit.symbol)
