"""Run-time values of expressions: their types and how they read inside a string."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

from runner.playbook.amounts import Amount, format_decimal
from runner.playbook.exprtypes import (
    AMOUNT_MAP,
    ANY,
    BOOL,
    NULL,
    NUMBER,
    STRING,
    TIME,
    ExprType,
    amount_of,
    list_of,
)

__all__ = ["SmallestUnits", "Value", "format_value", "normalize", "type_of"]


class SmallestUnits(Decimal):
    """A whole number of a token's smallest unit (wei, lamports): a number in expressions,
    always a string of digits in JSON output and webhooks (JSON readers round big numbers)."""


Value: TypeAlias = (
    Decimal | str | bool | datetime | Amount | Sequence["Value"] | Mapping[str, "Value"] | None
)


def normalize(value: object) -> Value:
    """Outputs from steps may carry ints; expressions only ever see Decimal numbers."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        raise TypeError("floats are never expression values; convert to Decimal first")
    if isinstance(value, Decimal | str | datetime | Amount):
        return value
    if isinstance(value, Mapping):
        return {str(key): normalize(item) for key, item in value.items()}
    if isinstance(value, Sequence):
        return [normalize(item) for item in value]
    raise TypeError(f"{type(value).__name__} is not an expression value")


def type_of(value: Value) -> ExprType:
    if isinstance(value, bool):
        return BOOL
    if value is None:
        return NULL
    if isinstance(value, Decimal):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, datetime):
        return TIME
    if isinstance(value, Amount):
        return amount_of(value.symbol)
    if isinstance(value, Mapping):
        return AMOUNT_MAP
    return list_of(ANY)


def format_value(value: Value) -> str:
    """How a value reads when a placeholder sits inside a longer string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | Amount):
        return str(value)
    return json.dumps(value, default=format_value, ensure_ascii=False)
