"""How expression values compare: numbers by value, whatever produced them.

A number reaches an expression as a literal (``Decimal``), a step's smallest units
(:class:`~runner.playbook.values.SmallestUnits`, a ``Decimal`` subclass), a count or
``decimals`` (ints made ``Decimal``), or the result of arithmetic or a function. They are
one kind — *number* — and ``==``, ``!=``, ``in``, ``not in`` and the orderings compare
their values: ``steps.a.raw == 20000000000000000`` holds exactly when
``steps.a.raw >= 20000000000000000 and steps.a.raw <= 20000000000000000`` does (comparing
Python types made the first false, and an ``if: steps.x.raw != 0`` decided a send on it).

The kinds stay apart: a boolean is never a number (``true == 1`` is false, as YAML's
``true`` is not a count), an amount equals only an amount of the same token, text only
text. An ordering between kinds that cannot be ordered is an :class:`ComparisonError`
(the type checker refuses it where the types are known; values read from a list of any
type are judged here).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from runner.playbook.amounts import Amount
from runner.playbook.values import Value, type_of

__all__ = ["ComparisonError", "ordered", "same"]


class ComparisonError(ValueError):
    """Two values that have no order between them (``"a" < 1``, ETH against USDC)."""


def same(left: Value, right: Value) -> bool:
    """``left == right`` as expressions mean it: by value within one kind."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        return left == right  # by value: SmallestUnits(5) == Decimal("5.0")
    if isinstance(left, Amount) and isinstance(right, Amount):
        return left.symbol == right.symbol and left.value == right.value
    if isinstance(left, str) or isinstance(right, str):
        return isinstance(left, str) and isinstance(right, str) and left == right
    if isinstance(left, datetime) and isinstance(right, datetime):
        return left == right
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if _is_list(left) and _is_list(right):
        assert isinstance(left, Sequence) and isinstance(right, Sequence)
        return len(left) == len(right) and all(map(same, left, right))
    return left is None and right is None


def ordered(op: str, left: Value, right: Value) -> bool:
    """``left <op> right`` for ``< <= > >=``; raises :class:`ComparisonError` when the two
    values have no order between them."""
    keys = _order_keys(left, right)
    if keys is None:
        tokens = " of different tokens" if isinstance(left, Amount) else ""
        raise ComparisonError(f"cannot order {type_of(left)} and {type_of(right)} values{tokens}")
    return bool(_ORDER[op](*keys))


_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _order_keys(left: Value, right: Value) -> tuple[Any, Any] | None:
    """What orders the two values (bool is no Decimal: it is never ordered)."""
    if isinstance(left, Amount) and isinstance(right, Amount):
        return (left.value, right.value) if left.symbol == right.symbol else None
    if isinstance(left, Decimal) and isinstance(right, Decimal):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    if isinstance(left, datetime) and isinstance(right, datetime):
        return left, right
    return None


def _is_list(value: Value) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)
