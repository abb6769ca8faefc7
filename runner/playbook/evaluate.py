"""Run-time evaluation of checked expressions over our own context only.

Names resolve through plain dictionary look-ups in :class:`EvalContext`; no Python
attribute of any object is ever read. Arithmetic runs in a bounded Decimal context, so
overflow, division by zero and huge powers become :class:`EvaluationError`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import (
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Underflow,
    localcontext,
)

from runner.errors import RunnerError
from runner.playbook.amounts import Amount, AmountError, UnitTable
from runner.playbook.compare import ComparisonError, ordered, same
from runner.playbook.durations import DurationError, seconds_of
from runner.playbook.expressions import (
    CONSTANT_NAMES,
    MAX_EXPONENT,
    MAX_MAGNITUDE,
    Expression,
    Template,
    operator_name,
)
from runner.playbook.exprtypes import ExprTypeError, binary_type, compare_type, unary_type
from runner.playbook.functions import FUNCTIONS
from runner.playbook.values import Value, format_value, type_of

__all__ = ["EvalContext", "EvaluationError", "evaluate", "render", "truth"]

MAX_STRING = 10_000
# Exact for everything an amount can hold; a number beyond 1e999 is an error, not a hang.
# + - * and ** are exact or fail (Inexact is trapped); only division may round, at 80 digits.
_ARITHMETIC = Context(
    prec=80,
    Emax=999,
    Emin=-999,
    traps=[Overflow, Underflow, DivisionByZero, InvalidOperation, Inexact],
)
_DIVISION = _ARITHMETIC.copy()
_DIVISION.traps[Inexact] = False


class EvaluationError(RunnerError):
    """An expression that cannot be computed with the values of this run."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class EvalContext:
    """Everything an expression can see. Step outputs are keyed by step id."""

    units: UnitTable
    vars: Mapping[str, Value] = field(default_factory=dict)
    steps: Mapping[str, Mapping[str, Value]] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    run: Mapping[str, Value] = field(default_factory=dict)
    clock: Callable[[], datetime] = _utc_now

    def now(self) -> datetime:
        return self.clock()


def truth(value: Value) -> bool:
    """Conditions take true/false; null (e.g. an output of a skipped step) counts as false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise EvaluationError(f"expected true or false, got a {type_of(value)}")


def evaluate(expression: Expression, context: EvalContext) -> Value:
    try:
        with localcontext(_ARITHMETIC):
            return _bounded(_Evaluator(context).visit(expression.tree))
    except (ExprTypeError, AmountError, DurationError) as error:
        raise EvaluationError(f"{expression.source}: {error}") from None
    except DecimalException as error:
        reason = {
            Inexact: "result has more than 80 significant digits",
            Overflow: "number too large",
            Underflow: f"number too small (numbers are 0 or at least 1e-{MAX_MAGNITUDE} in size)",
            DivisionByZero: "division by zero",
        }.get(type(error), "invalid arithmetic")
        raise EvaluationError(f"{expression.source}: {reason}") from None
    except EvaluationError as error:
        raise EvaluationError(f"{expression.source}: {error}") from None
    except OverflowError:  # a conversion outside Decimal's own traps: never a traceback
        raise EvaluationError(f"{expression.source}: number too large") from None


def _bounded(value: Value) -> Value:
    """Every result obeys the bounds the literals do, whatever computed it (a function, a
    step output): a number within 1e-999 .. 1e999, text up to 10,000 characters."""
    number = value.value if isinstance(value, Amount) else value
    if isinstance(number, Decimal) and not isinstance(number, bool):
        if not number.is_finite():
            raise EvaluationError("result is not a number")
        if number and not -MAX_MAGNITUDE <= number.adjusted() <= MAX_MAGNITUDE:
            raise EvaluationError(
                f"result out of range: numbers are 0 or between 1e-{MAX_MAGNITUDE} "
                f"and 1e{MAX_MAGNITUDE} in size"
            )
    elif isinstance(value, str) and len(value) > MAX_STRING:
        raise EvaluationError(f"text longer than {MAX_STRING} characters")
    return value


def render(template: Template, context: EvalContext) -> Value:
    """A single whole placeholder keeps its value's type; anything else becomes text.

    Either way the text it reads as is bounded, so a log line or a memo built from one
    placeholder is as bounded as one with text around it.
    """
    whole = template.whole
    if whole is not None:
        value = evaluate(whole.expression, context)
        composite = isinstance(value, Sequence | Mapping) and not isinstance(value, str)
        if composite and len(format_value(value)) > MAX_STRING:
            raise EvaluationError(f"rendered text longer than {MAX_STRING} characters")
        return value
    pieces = [
        part if isinstance(part, str) else format_value(evaluate(part.expression, context))
        for part in template.parts
    ]
    text = "".join(pieces)
    if len(text) > MAX_STRING:
        raise EvaluationError(f"rendered text longer than {MAX_STRING} characters")
    return text


class _Evaluator:
    def __init__(self, context: EvalContext) -> None:
        self.context = context

    def visit(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant):
            value = node.value
            assert isinstance(value, Decimal | str | bool) or value is None
            return value
        if isinstance(node, ast.Name):
            return CONSTANT_NAMES[node.id]
        if isinstance(node, ast.Attribute):
            return self.member(node)
        if isinstance(node, ast.BoolOp):
            stop = isinstance(node.op, ast.Or)  # `or` stops at the first true, `and` at false
            for operand in node.values:
                if truth(self.visit(operand)) is stop:
                    return stop
            return not stop
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(
                operator_name(node.op), self.visit(node.left), self.visit(node.right)
            )
        if isinstance(node, ast.Compare):
            left = self.visit(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.visit(comparator)
                if not _compare(operator_name(op), left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.visit(node.body if truth(self.visit(node.test)) else node.orelse)
        if isinstance(node, ast.List | ast.Tuple):
            return [self.visit(element) for element in node.elts]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
        ):
            args = [self.visit(argument) for argument in node.args]
            return FUNCTIONS[node.func.id].body(args, self.context)
        raise EvaluationError(f"{type(node).__name__} not allowed in expressions")

    def member(self, node: ast.Attribute) -> Value:
        names: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            names.insert(0, current.attr)
            current = current.value
        if not isinstance(current, ast.Name) or any(name.startswith("_") for name in names):
            raise EvaluationError("member access is only allowed on vars, steps, env and run")
        roots: dict[str, Mapping[str, object]] = {
            "vars": self.context.vars,
            "steps": self.context.steps,
            "env": self.context.env,
            "run": self.context.run,
        }
        value: object = roots.get(current.id)
        path = current.id
        for depth, name in enumerate(names):
            if not isinstance(value, Mapping):
                raise EvaluationError(f"{path} has no field {name!r}")
            if name not in value and current.id == "steps" and depth == 2:
                return Amount(Decimal(0), name)  # a token absent from an assets listing holds 0
            if name not in value:
                raise EvaluationError(f"{path}.{name} is not set")
            value = value[name]
            path = f"{path}.{name}"
        return value  # type: ignore[return-value]

    def unary(self, node: ast.UnaryOp) -> Value:
        op = operator_name(node.op)
        operand = self.visit(node.operand)
        unary_type(op, type_of(operand))
        if op == "not":
            return not truth(operand)
        if isinstance(operand, Amount):
            return Amount(-operand.value if op == "-" else operand.value, operand.symbol)
        assert isinstance(operand, Decimal)
        return -operand if op == "-" else +operand

    def binary(self, op: str, left: Value, right: Value) -> Value:
        binary_type(op, type_of(left), type_of(right))
        if isinstance(left, Amount) and isinstance(right, Amount):
            if op == "/":
                return _divide("/", left.value, right.value)
            return Amount(
                left.value + right.value if op == "+" else left.value - right.value, left.symbol
            )
        if isinstance(left, Amount) or isinstance(right, Amount):
            amount, number = (left, right) if isinstance(left, Amount) else (right, left)
            assert isinstance(amount, Amount) and isinstance(number, Decimal)
            return Amount(
                amount.value * number if op == "*" else _divide("/", amount.value, number),
                amount.symbol,
            )
        if isinstance(left, str) and isinstance(right, str):
            if len(left) + len(right) > MAX_STRING:
                raise EvaluationError(f"text longer than {MAX_STRING} characters")
            return left + right
        if isinstance(left, datetime):
            if isinstance(right, datetime):
                return seconds_of(left - right)
            assert isinstance(right, Decimal)
            try:
                shift = timedelta(seconds=float(right))  # durations may be float; amounts never
                return left + shift if op == "+" else left - shift
            except (OverflowError, ValueError):  # beyond what a datetime can hold
                raise EvaluationError("time out of range (years 1 to 9999)") from None
        assert isinstance(left, Decimal) and isinstance(right, Decimal)
        return _arithmetic(op, left, right)


def _arithmetic(op: str, left: Decimal, right: Decimal) -> Decimal:
    if op == "**":
        if right != right.to_integral_value() or abs(right) > MAX_EXPONENT:
            raise EvaluationError(f"the exponent of ** must be a whole number up to {MAX_EXPONENT}")
        return left**right
    operations: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
        "+": Decimal.__add__,
        "-": Decimal.__sub__,
        "*": Decimal.__mul__,
    }
    return operations[op](left, right) if op in operations else _divide(op, left, right)


def _divide(op: str, left: Decimal, right: Decimal) -> Decimal:
    """Division is the one operation allowed to round (to 80 significant digits)."""
    with localcontext(_DIVISION):
        if op == "//":
            return left // right
        if op == "%":
            return left % right
        return left / right


def _compare(op: str, left: Value, right: Value) -> bool:
    compare_type(op, type_of(left), type_of(right))
    if op in ("in", "not in"):
        assert isinstance(right, str | Sequence)
        if isinstance(right, str):
            assert isinstance(left, str)
            found = left in right
        else:
            found = any(same(left, item) for item in right)
        return found if op == "in" else not found
    if op in ("==", "!="):
        return same(left, right) is (op == "==")
    try:
        return ordered(op, left, right)
    except ComparisonError as error:
        raise EvaluationError(str(error)) from None
