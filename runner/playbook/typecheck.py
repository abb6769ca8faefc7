"""Load-time type checking of expressions against what the playbook declares.

Unknown names, steps used before they run, unknown output fields, unknown functions and
mixing amounts of different tokens are found here, each with the offset of the offending
part so the error can point at the column.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

from runner.playbook.amounts import UnitTable
from runner.playbook.diagnostics import did_you_mean
from runner.playbook.expressions import (
    CONSTANT_NAMES,
    Expression,
    ExpressionError,
    Template,
    operator_name,
)
from runner.playbook.exprtypes import (
    ANY,
    BOOL,
    NULL,
    NUMBER,
    STRING,
    TIME,
    ExprType,
    ExprTypeError,
    a,
    amount_of,
    binary_type,
    compare_type,
    list_of,
    unary_type,
    unify,
)
from runner.playbook.functions import FUNCTIONS, NOT_CONSTANT

__all__ = ["RUN_FIELDS", "Scope", "StepInfo", "check_expression", "check_template"]

RUN_FIELDS: dict[str, ExprType] = {
    "id": STRING,
    "playbook": STRING,
    "scheduled": TIME,
    "started": TIME,
}


@dataclass(frozen=True)
class StepInfo:
    index: int
    outputs: Mapping[str, ExprType]


@dataclass(frozen=True)
class Scope:
    """What an expression at one place of the playbook may refer to."""

    roots: frozenset[str]
    where: str  # for messages: "vars", "steps[2]", ...
    units: UnitTable
    vars: Mapping[str, ExprType] = field(default_factory=dict)
    env: frozenset[str] = frozenset()
    steps: Mapping[str, StepInfo] = field(default_factory=dict)
    step_index: int | None = None  # the step this expression belongs to


def check_template(template: Template, scope: Scope) -> ExprType:
    """Checks every placeholder; returns the value type (text unless one whole placeholder)."""
    result = STRING
    whole = template.whole
    for placeholder in template.placeholders:
        try:
            kind = check_expression(placeholder.expression, scope)
        except ExpressionError as error:
            offset = placeholder.offset + error.offset
            raise ExpressionError(error.message, offset, error.blame) from None
        if placeholder is whole:
            result = kind
    return result


def check_expression(expression: Expression, scope: Scope) -> ExprType:
    return _Checker(expression, scope).visit(expression.tree)


def _operand_vars(node: ast.AST) -> tuple[str, ...]:
    """The vars read directly as operands of ``node`` (``vars.floor`` in ``a < vars.floor``)."""
    if isinstance(node, ast.BinOp):
        operands: list[ast.expr] = [node.left, node.right]
    elif isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
    elif isinstance(node, ast.UnaryOp):
        operands = [node.operand]
    elif isinstance(node, ast.Call):
        operands = list(node.args)
    else:
        operands = [node] if isinstance(node, ast.expr) else []
    return tuple(
        operand.attr
        for operand in operands
        if isinstance(operand, ast.Attribute)
        and isinstance(operand.value, ast.Name)
        and operand.value.id == "vars"
    )


class _Checker:
    def __init__(self, expression: Expression, scope: Scope) -> None:
        self.expression = expression
        self.scope = scope

    def fail(self, node: ast.AST, message: str, *, mismatch: bool = False) -> ExpressionError:
        blame = _operand_vars(node) if mismatch else ()
        return ExpressionError(message, self.expression.offset_of(node), blame)

    def visit(self, node: ast.expr) -> ExprType:
        try:
            return self.dispatch(node)
        except ExprTypeError as error:
            raise self.fail(node, str(error), mismatch=True) from None

    def dispatch(self, node: ast.expr) -> ExprType:
        if isinstance(node, ast.Constant):
            return {bool: BOOL, str: STRING, type(None): NULL}.get(type(node.value), NUMBER)
        if isinstance(node, ast.Name):
            return {True: BOOL, False: BOOL, None: NULL}[CONSTANT_NAMES[node.id]]
        if isinstance(node, ast.Attribute):
            return self.member(node)
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.condition(value, operator_name(node.op))
            return BOOL
        if isinstance(node, ast.UnaryOp):
            return unary_type(operator_name(node.op), self.visit(node.operand))
        if isinstance(node, ast.BinOp):
            return binary_type(
                operator_name(node.op), self.visit(node.left), self.visit(node.right)
            )
        if isinstance(node, ast.Compare):
            left = self.visit(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.visit(comparator)
                try:
                    compare_type(operator_name(op), left, right)
                except ExprTypeError as error:
                    raise self.fail(node, str(error), mismatch=True) from None
                left = right
            return BOOL
        if isinstance(node, ast.IfExp):
            self.condition(node.test, "if")
            return unify(self.visit(node.body), self.visit(node.orelse), "choose between")
        if isinstance(node, ast.List | ast.Tuple):
            item = ANY
            for element in node.elts:
                item = unify(item, self.visit(element), "put in one list")
            return list_of(item)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(
            node, f"{type(node).__name__} not allowed in expressions"
        )  # pragma: no cover

    def condition(self, node: ast.expr, where: str) -> None:
        kind = self.visit(node)
        if kind.kind not in ("bool", "null", "any"):
            raise self.fail(node, f"'{where}' needs true/false, not {a(kind)}")

    def call(self, node: ast.Call) -> ExprType:
        assert isinstance(node.func, ast.Name)
        function = FUNCTIONS[node.func.id]
        args = [self.visit(argument) for argument in node.args]
        consts = [
            argument.value if isinstance(argument, ast.Constant) else NOT_CONSTANT
            for argument in node.args
        ]
        return function.signature(args, consts, self.scope.units)

    def member(self, node: ast.Attribute) -> ExprType:
        chain: list[ast.Attribute] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            chain.append(current)
            current = current.value
        chain.reverse()
        assert isinstance(current, ast.Name)
        root = current.id
        if root not in self.scope.roots:
            allowed = ", ".join(sorted(self.scope.roots)) or "nothing"
            raise self.fail(
                current, f"'{root}' is not available in {self.scope.where} (it can use {allowed})"
            )
        names = [link.attr for link in chain]
        kind, used = getattr(self, f"root_{root}")(chain, names)
        if used < len(names):
            raise self.fail(chain[used], f"{kind} has no field {names[used]!r}")
        return kind  # type: ignore[no-any-return]

    def root_vars(self, chain: list[ast.Attribute], names: list[str]) -> tuple[ExprType, int]:
        if names[0] not in self.scope.vars:
            hint = did_you_mean(names[0], self.scope.vars)
            raise self.fail(chain[0], f"unknown variable vars.{names[0]}{hint}")
        return self.scope.vars[names[0]], 1

    def root_env(self, chain: list[ast.Attribute], names: list[str]) -> tuple[ExprType, int]:
        if names[0] not in self.scope.env:
            hint = did_you_mean(names[0], self.scope.env)
            raise self.fail(chain[0], f"env.{names[0]} is not declared{hint}: list it under env:")
        return STRING, 1

    def root_run(self, chain: list[ast.Attribute], names: list[str]) -> tuple[ExprType, int]:
        if names[0] not in RUN_FIELDS:
            hint = did_you_mean(names[0], RUN_FIELDS)
            raise self.fail(chain[0], f"unknown field run.{names[0]}{hint}")
        return RUN_FIELDS[names[0]], 1

    def root_steps(self, chain: list[ast.Attribute], names: list[str]) -> tuple[ExprType, int]:
        step_id = names[0]
        info = self.scope.steps.get(step_id)
        if info is None:
            hint = did_you_mean(step_id, self.scope.steps)
            raise self.fail(chain[0], f"unknown step {step_id!r}{hint}")
        here = self.scope.step_index
        if here is not None and info.index == here:
            raise self.fail(chain[0], f"step {step_id!r} cannot use its own outputs")
        if here is None or info.index > here:
            raise self.fail(
                chain[0], f"step {step_id!r} is used before it runs (it is steps[{info.index}])"
            )
        if len(names) < 2:
            raise self.fail(
                chain[0],
                f"steps.{step_id} needs a field, e.g. steps.{step_id}.{next(iter(info.outputs))}",
            )
        output = info.outputs.get(names[1])
        if output is None:
            hint = did_you_mean(names[1], info.outputs)
            raise self.fail(chain[1], f"step {step_id!r} has no output {names[1]!r}{hint}")
        if output.kind != "amount_map":
            return output, 2
        if len(names) < 3:
            raise self.fail(chain[1], f"steps.{step_id}.{names[1]} needs a token symbol, e.g. .ETH")
        try:
            symbol = self.scope.units.unit(names[2]).symbol
        except ValueError as error:
            raise self.fail(chain[2], str(error)) from None
        return amount_of(symbol), 3
