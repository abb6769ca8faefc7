"""Step outputs as JSON: for the ledger (lossless, typed) and for people (plain)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from runner.playbook import Amount
from runner.playbook.amounts import format_decimal
from runner.playbook.values import SmallestUnits, Value

__all__ = ["decode", "encode", "plain"]


def encode(value: Value) -> Any:
    """Lossless JSON: amounts, numbers and times keep their type through the ledger."""
    if isinstance(value, Amount):
        return {"$amount": format_decimal(value.value), "symbol": value.symbol}
    if isinstance(value, SmallestUnits):
        return {"$units": str(value)}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$time": value.isoformat()}
    if isinstance(value, Mapping):
        return {key: encode(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [encode(item) for item in value]
    return value


def decode(data: Any) -> Value:
    if isinstance(data, dict):
        if "$amount" in data:
            return Amount(Decimal(data["$amount"]), data["symbol"])
        if "$units" in data:
            return SmallestUnits(data["$units"])
        if "$decimal" in data:
            return Decimal(data["$decimal"])
        if "$time" in data:
            return datetime.fromisoformat(data["$time"])
        return {key: decode(item) for key, item in data.items()}
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, int) and not isinstance(data, bool):
        return Decimal(data)
    return data  # type: ignore[no-any-return]


def plain(value: Value) -> Any:
    """JSON for output: amounts read "0.08 ETH"; smallest units are always a string of
    digits; another number that a JSON reader could round (fractional, or an integer past
    2**53) is written as a string."""
    if isinstance(value, Amount):
        return str(value)
    if isinstance(value, SmallestUnits):
        return str(int(value))
    if isinstance(value, Decimal):
        exact_in_json = value == value.to_integral_value() and abs(value) < 2**53
        return int(value) if exact_in_json else format_decimal(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(item) for item in value]
    return value
