"""The types of expression values and the one table of what operators accept.

The load-time type checker and the run-time evaluator both ask these functions, so a rule
(e.g. "an ETH amount cannot be compared with a USDC amount", "an amount cannot be compared
with a bare number") is written once. ``ANY`` stands for "not known before the run"; the
evaluator then applies the same rule to the actual value types.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.errors import RunnerError

__all__ = [
    "AMOUNT_MAP",
    "ANY",
    "BOOL",
    "NULL",
    "NUMBER",
    "STRING",
    "TIME",
    "ExprType",
    "ExprTypeError",
    "amount_of",
    "binary_type",
    "compare_type",
    "list_of",
    "unary_type",
    "unify",
]


class ExprTypeError(RunnerError):
    """An operation that is not allowed on these types."""


@dataclass(frozen=True)
class ExprType:
    kind: str  # number, string, bool, null, time, amount, list, amount_map, any
    symbol: str | None = None  # amount: the token symbol when known before the run
    item: ExprType | None = None  # list: the item type

    def __str__(self) -> str:
        if self.kind == "amount":
            return f"amount ({self.symbol})" if self.symbol else "amount"
        if self.kind == "list":
            return f"list of {self.item}" if self.item and self.item.kind != "any" else "list"
        return self.kind


def a(kind: ExprType) -> str:
    """``a number``, ``an amount (ETH)``: the type with its article, for messages."""
    text = str(kind)
    if kind.kind == "null":
        return text
    return f"an {text}" if text[:1] in "aeiou" else f"a {text}"


NUMBER = ExprType("number")
STRING = ExprType("string")
BOOL = ExprType("bool")
NULL = ExprType("null")
TIME = ExprType("time")
ANY = ExprType("any")
AMOUNT_MAP = ExprType("amount_map")  # assets balances: any symbol -> amount of that symbol


def amount_of(symbol: str | None) -> ExprType:
    return ExprType("amount", symbol=symbol)


def list_of(item: ExprType) -> ExprType:
    return ExprType("list", item=item)


def _same_token(left: ExprType, right: ExprType, doing: str) -> None:
    if left.symbol and right.symbol and left.symbol != right.symbol:
        raise ExprTypeError(
            f"cannot {doing} an amount of {left.symbol} and an amount of {right.symbol}"
        )


def _amount_symbol(left: ExprType, right: ExprType) -> str | None:
    return left.symbol or right.symbol


def unify(left: ExprType, right: ExprType, doing: str = "mix") -> ExprType:
    """The common type of two values that must be alike (branches, min/max arguments)."""
    if left.kind == "any":
        return right
    if right.kind == "any":
        return left
    if left.kind == "amount" and right.kind == "amount":
        _same_token(left, right, doing)
        return amount_of(_amount_symbol(left, right))
    if left.kind != right.kind:
        raise ExprTypeError(f"cannot {doing} {a(left)} and {a(right)}")
    return left


_ORDERED = {"number", "string", "time", "amount"}


def compare_type(op: str, left: ExprType, right: ExprType) -> ExprType:
    """Checks ``left <op> right`` (op: == != < <= > >= in, not in); the result is bool."""
    if "any" in (left.kind, right.kind):
        return BOOL
    if op in ("in", "not in"):
        if right.kind == "string" and left.kind == "string":
            return BOOL
        if right.kind == "list":
            unify(left, right.item or ANY, "compare")
            return BOOL
        if right.kind == "string":  # a string holds only text: say what was wrong
            raise ExprTypeError(
                f"'{op}' on a string looks for text in it, not {a(left)}: compare it as text "
                '(e.g. "5" in steps.x.memo) or give a list on the right'
            )
        raise ExprTypeError(f"'{op}' needs a list or a string on the right, not {a(right)}")
    if {left.kind, right.kind} == {"amount", "number"}:
        raise ExprTypeError(
            f"cannot compare {a(left)} with {a(right)}: write the number with its unit, "
            'e.g. amount("0.05 ETH"), or compare units(x) with a number'
        )
    if op in ("==", "!=") and "null" in (left.kind, right.kind):
        return BOOL
    unify(left, right, "compare")
    if op not in ("==", "!=") and left.kind not in _ORDERED:
        raise ExprTypeError(f"'{op}' cannot order {left} values")
    return BOOL


def binary_type(op: str, left: ExprType, right: ExprType) -> ExprType:
    """The result type of ``left <op> right`` for + - * / // % **."""
    kinds = (left.kind, right.kind)
    if "any" in kinds:
        return ANY
    if kinds == ("number", "number"):
        return NUMBER
    if op in ("+", "-") and kinds == ("amount", "amount"):
        _same_token(left, right, "add or subtract")
        return amount_of(_amount_symbol(left, right))
    if op == "+" and kinds == ("string", "string"):
        return STRING
    if op in ("+", "-") and kinds == ("time", "number"):
        return TIME
    if op == "-" and kinds == ("time", "time"):
        return NUMBER
    if op == "*" and sorted(kinds) == ["amount", "number"]:
        return amount_of(_amount_symbol(left, right))
    if op == "/" and kinds == ("amount", "number"):
        return left
    if op == "/" and kinds == ("amount", "amount"):
        _same_token(left, right, "divide")
        return NUMBER
    raise ExprTypeError(f"'{op}' is not defined for {a(left)} and {a(right)}")


def unary_type(op: str, operand: ExprType) -> ExprType:
    if op == "not":
        if operand.kind not in ("bool", "any", "null"):
            raise ExprTypeError(f"'not' needs true/false, not {a(operand)}")
        return BOOL
    if operand.kind in ("number", "amount", "any"):
        return operand
    raise ExprTypeError(f"'{op}' needs a number or an amount, not {a(operand)}")
