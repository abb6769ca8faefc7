"""Parsing ``${{ expr }}`` templates and bare expressions into checked, bounded syntax trees.

Expressions are parsed with the standard library's ``ast`` (mode "eval") and every node is
checked against an allow-list before anything else looks at it: literals, names of our own
context (vars, steps, env, run), member access on them, comparisons, and/or/not, arithmetic,
conditional expressions and calls of the functions in our table. Everything else (lambda,
comprehensions, indexing, dunder names, attribute access on anything but our context) is
rejected at load time. Sizes are bounded before parsing so a hostile string costs nothing.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from runner.errors import ExitCode, RunnerError
from runner.playbook.amounts import MAX_DIGITS
from runner.playbook.diagnostics import did_you_mean
from runner.playbook.exprtypes import ExprType
from runner.playbook.functions import FUNCTIONS

__all__ = [
    "CONSTANT_NAMES",
    "MAX_DEPTH",
    "MAX_MAGNITUDE",
    "MAX_NODES",
    "MAX_SOURCE",
    "ROOTS",
    "Expression",
    "ExpressionError",
    "Placeholder",
    "Template",
]

MAX_SOURCE = 1000  # characters of one expression
MAX_NODES = 200  # syntax-tree nodes of one expression
MAX_DEPTH = 32  # nesting of one expression
MAX_EXPONENT = 100  # of **, so no expression can build a huge number
MAX_MAGNITUDE = 999  # every number, written or computed, is 0 or within 1e-999 .. 1e999

ROOTS = ("vars", "steps", "env", "run")
CONSTANT_NAMES: dict[str, bool | None] = {"true": True, "false": False, "null": None}

_OPERATORS: dict[type[ast.AST], str] = {
    ast.And: "and",
    ast.Or: "or",
    ast.Not: "not",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_FORBIDDEN_NAMES: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Subscript: "indexing with [...]",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "':='",
    ast.Starred: "'*' unpacking",
    ast.Dict: "mapping literals",
    ast.Set: "set literals",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}


class ExpressionError(RunnerError, ValueError):
    """A problem in an expression; ``offset`` is the character offset inside its source."""

    exit_code = ExitCode.INVALID

    def __init__(self, message: str, offset: int = 0, blame: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        # vars that are operands of the failing operation (a type mismatch): the mistake may
        # well be where they are written, so the checker reports it there too
        self.blame = blame


def operator_name(op: ast.AST) -> str:
    return _OPERATORS[type(op)]


def node_offset(source: str, node: ast.AST) -> int:
    """Character offset of ``node`` in ``source`` (ast columns count UTF-8 bytes per line)."""
    lineno = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0)
    lines = source.split("\n")
    before = sum(len(line) + 1 for line in lines[: lineno - 1])
    line = lines[lineno - 1] if lineno - 1 < len(lines) else ""
    return before + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))


@dataclass(frozen=True)
class Expression:
    """A parsed, allow-listed expression (numbers already turned into Decimal)."""

    source: str
    tree: ast.expr = field(compare=False, repr=False)
    # (root, first field) pairs it reads, e.g. ("vars", "floor"): collected while checking
    references: frozenset[tuple[str, str]] = field(default=frozenset(), compare=False, repr=False)

    @classmethod
    def parse(cls, source: str) -> Expression:
        """Parses and checks ``source``. Results are shared by text: a parsed expression is
        never changed afterwards, and the same ones recur across the files of a validate."""
        cached = _PARSED.get(source)
        if cached is not None:
            return cached
        parsed = cls._parse(source)
        if len(_PARSED) >= _CACHE_LIMIT:
            _PARSED.clear()
        _PARSED[source] = parsed
        return parsed

    @classmethod
    def _parse(cls, source: str) -> Expression:
        text = source.strip()
        lead = len(source) - len(source.lstrip())
        if not text:
            raise ExpressionError("empty expression")
        if len(text) > MAX_SOURCE:
            raise ExpressionError(f"expression longer than {MAX_SOURCE} characters")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "1 is 1"
                tree = ast.parse(text, mode="eval")
        except SyntaxError as error:
            if not error.offset or error.offset > len(text):  # the parser hit the end
                raise ExpressionError(
                    "expression syntax error: unexpected end", lead + len(text)
                ) from None
            offset = error.offset - 1 if (error.lineno or 1) == 1 else 0
            raise ExpressionError(f"expression syntax error: {error.msg}", lead + offset) from None
        except (RecursionError, MemoryError, ValueError):
            raise ExpressionError("expression nested too deeply or too large", lead) from None
        allow_list = _AllowList(text)
        try:
            allow_list.check(tree.body, 1)
        except ExpressionError as error:
            raise ExpressionError(error.message, lead + error.offset) from None
        return cls(text, tree.body, frozenset(allow_list.references))

    def offset_of(self, node: ast.AST) -> int:
        return node_offset(self.source, node)


class _AllowList:
    """Rejects every node that is not on the list; converts numeric literals to Decimal."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = 0
        self.references: set[tuple[str, str]] = set()

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, node_offset(self.source, node))

    def check(self, node: ast.AST, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, f"expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"expression nested deeper than {MAX_DEPTH} levels")
        for child in self.children(node):
            self.check(child, depth + 1)

    def children(self, node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            self.exponent(node.right)
        if isinstance(node, ast.BoolOp | ast.UnaryOp | ast.BinOp | ast.Compare):
            ops = node.ops if isinstance(node, ast.Compare) else [node.op]
            for op in ops:
                if type(op) not in _OPERATORS:
                    raise self.fail(node, f"operator {type(op).__name__} is not allowed")
            if isinstance(node, ast.BoolOp):
                return list(node.values)
            if isinstance(node, ast.UnaryOp):
                return [node.operand]
            if isinstance(node, ast.BinOp):
                return [node.left, node.right]
            return [node.left, *node.comparators]
        if isinstance(node, ast.IfExp):
            return [node.test, node.body, node.orelse]
        if isinstance(node, ast.List | ast.Tuple):
            return list(node.elts)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            self.attribute(node)
            return []
        if isinstance(node, ast.Name):
            if node.id in ROOTS:
                raise self.fail(node, f"'{node.id}' needs a field, e.g. {node.id}.name")
            if node.id not in CONSTANT_NAMES:
                raise self.fail(node, f"unknown name {node.id!r}: use vars., steps., env. or run.")
            return []
        if isinstance(node, ast.Constant):
            self.constant(node)
            return []
        what = _FORBIDDEN_NAMES.get(type(node), type(node).__name__)
        raise self.fail(node, f"{what} not allowed in expressions")

    def exponent(self, node: ast.expr) -> None:
        literal = node.operand if isinstance(node, ast.UnaryOp) else node
        value = literal.value if isinstance(literal, ast.Constant) else None
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_EXPONENT:
            raise self.fail(
                node,
                f"the exponent of ** must be a whole number written in place, "
                f"at most {MAX_EXPONENT}",
            )

    def call(self, node: ast.Call) -> list[ast.AST]:
        if not isinstance(node.func, ast.Name):
            self.children(node.func)  # names the real problem first (lambda, f-string, ...)
            raise self.fail(node, "only the built-in functions can be called, e.g. max(a, b)")
        if node.func.id not in FUNCTIONS:
            hint = did_you_mean(node.func.id, FUNCTIONS)
            raise self.fail(node, f"unknown function {node.func.id!r}{hint}")
        if node.keywords:
            raise self.fail(node.keywords[0], "functions take positional arguments only")
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self.fail(argument, "'*' unpacking not allowed in expressions")
        return list(node.args)

    def attribute(self, node: ast.Attribute) -> None:
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            if current.attr.startswith("_"):
                raise self.fail(
                    current, f"names starting with '_' are not allowed: {current.attr!r}"
                )
            current = current.value
        if not isinstance(current, ast.Name) or current.id not in ROOTS:
            raise self.fail(node, "member access is only allowed on vars, steps, env and run")
        first = node
        while isinstance(first.value, ast.Attribute):
            first = first.value
        self.references.add((current.id, first.attr))

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return
        if isinstance(value, int | float):
            text = ast.get_source_segment(self.source, node) or ""
            if len(text) > MAX_DIGITS:
                raise self.fail(node, f"number with more than {MAX_DIGITS} digits")
            if re.fullmatch(r"[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9]+)?|\.[0-9_]+", text) is None:
                raise self.fail(node, f"number {text!r} not allowed: write decimal digits")
            try:
                number = Decimal(text)
            except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
                raise self.fail(node, f"invalid number {text!r}") from None
            if number and not -MAX_MAGNITUDE <= number.adjusted() <= MAX_MAGNITUDE:
                raise self.fail(
                    node,
                    f"number {text!r} out of range: numbers are 0 or between "
                    f"1e-{MAX_MAGNITUDE} and 1e{MAX_MAGNITUDE} in size",
                )
            # exact decimal from the source text; the tree is only ever read by our evaluator
            node.value = number  # type: ignore[assignment]
            return
        raise self.fail(node, f"{type(value).__name__} literals not allowed in expressions")


@dataclass(frozen=True)
class Placeholder:
    expression: Expression
    offset: int  # where the expression text starts inside the template string


_OPEN, _CLOSE = "${{", "}}"
_CACHE_LIMIT = 20_000  # distinct texts per cache; cleared when full
_PARSED: dict[str, Expression] = {}
_TEMPLATES: dict[tuple[str, ExprType | None], Template] = {}


@dataclass(frozen=True)
class Template:
    """A string that may contain ``${{ expr }}`` placeholders.

    ``expect`` is the type the field needs when the whole string is one placeholder
    (an ``amount:`` field needs an amount); a string with text around placeholders is text.
    """

    source: str
    parts: tuple[str | Placeholder, ...]
    expect: ExprType | None = None

    @classmethod
    def parse(cls, source: str, expect: ExprType | None = None) -> Template:
        """Parses ``source`` (shared by text and expected type, like expressions)."""
        cached = _TEMPLATES.get((source, expect))
        if cached is not None:
            return cached
        parsed = cls._parse(source, expect)
        if len(_TEMPLATES) >= _CACHE_LIMIT:
            _TEMPLATES.clear()
        _TEMPLATES[(source, expect)] = parsed
        return parsed

    @classmethod
    def _parse(cls, source: str, expect: ExprType | None) -> Template:
        parts: list[str | Placeholder] = []
        position = 0
        while (start := source.find(_OPEN, position)) >= 0:
            if start > position:
                parts.append(source[position:start])
            end = source.find(_CLOSE, start + len(_OPEN))
            if end < 0:
                raise ExpressionError("unterminated '${{': close it with '}}'", start)
            inner_start = start + len(_OPEN)
            try:
                expression = Expression.parse(source[inner_start:end])
            except ExpressionError as error:
                raise ExpressionError(error.message, inner_start + error.offset) from None
            lead = len(source[inner_start:end]) - len(source[inner_start:end].lstrip())
            parts.append(Placeholder(expression, inner_start + lead))
            position = end + len(_CLOSE)
        if position < len(source):
            parts.append(source[position:])
        return cls(source, tuple(parts), expect)

    @property
    def placeholders(self) -> list[Placeholder]:
        return [part for part in self.parts if isinstance(part, Placeholder)]

    @property
    def whole(self) -> Placeholder | None:
        """The placeholder when the string is exactly one ``${{ expr }}``, else None."""
        stripped = [p for p in self.parts if not (isinstance(p, str) and not p.strip())]
        if len(stripped) == 1 and isinstance(stripped[0], Placeholder):
            return stripped[0]
        return None

    @property
    def is_static(self) -> bool:
        return not self.placeholders

    def __str__(self) -> str:
        return self.source
