"""Checks that need the whole playbook: references, units, expressions, limits.

Runs after the models validated; every problem becomes a located diagnostic.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from runner.playbook.addresses import address_problem, checksum_problem
from runner.playbook.amounts import (
    NATIVE_UNITS,
    Amount,
    AmountError,
    AmountLiteral,
    RawAmount,
    parse_amount_text,
)
from runner.playbook.diagnostics import Diagnostic, KeyPath, did_you_mean, format_key_path
from runner.playbook.evaluate import EvalContext, EvaluationError, evaluate
from runner.playbook.expressions import Expression, ExpressionError, Template
from runner.playbook.exprtypes import STRING, ExprType, a
from runner.playbook.facts import Facts, referenced, walk
from runner.playbook.guards import idle_caps, url_secrets
from runner.playbook.limits import sent_on_network
from runner.playbook.loader import SourceMap
from runner.playbook.typecheck import Scope, StepInfo, check_expression, check_template
from runner.playbook.values import Value

__all__ = ["check_playbook"]

# which roots expressions may read, by top-level section
_ROOTS = {
    "daemon": frozenset({"env"}),
    "wallets": frozenset({"env", "vars"}),
    "vars": frozenset({"env", "run"}),
    "notify": frozenset({"env", "vars", "run"}),
    "steps": frozenset({"env", "vars", "run", "steps"}),
}
_TEXTUAL = ("string", "any", "null")
_NUMBER = re.compile(r"[0-9][0-9_]*(\.[0-9_]+)?")
_UNIT = re.compile(r"[0-9][0-9_]*(\.[0-9_]+)? [A-Za-z]+")  # amount-shaped text


@dataclass(frozen=True)
class _Problem:
    message: str
    offset: int


def _reads_clock(expression: Expression) -> bool:
    """Whether the expression calls now(): its value changes from run to run."""
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "now"
        for node in ast.walk(expression.tree)
    )


def check_playbook(facts: Facts, source: SourceMap) -> list[Diagnostic]:
    return list(_Checks(facts, source).run())


class _Checks:
    """The whole-playbook checks; also what each kind's own checks use (``Checker``)."""

    def __init__(self, facts: Facts, source: SourceMap) -> None:
        self.facts = facts
        self.playbook = facts.playbook
        self.source = source
        self.steps: dict[str, StepInfo] = {}
        # statically known sends per (network, symbol), as the engine counts max_per_run
        self.sent_in_run: dict[tuple[str | None, str], Decimal] = {}
        self.amount_types: dict[KeyPath, ExprType] = {}  # of templated amount fields
        self.caps = {
            name: {amount.symbol: amount for amount in map(self.static_amount, literals) if amount}
            for name, literals in self.playbook.limits.caps().items()
        }
        token = self.playbook.daemon.token
        self.token_env_names = {"WAIAAS_SESSION_TOKEN"} | {
            name
            for p in (token.placeholders if token else [])
            for root, name in referenced(p.expression)
            if root == "env"
        }

    def run(self) -> Iterator[Diagnostic]:
        """Every problem, each followed by the same problem at the var it comes from when
        the field is exactly one ``${{ vars.x }}`` (the mistake is often in the var)."""
        whole_vars = {
            path: name
            for path, leaf in self.leaves()
            if isinstance(leaf, Template) and (name := self.literal_var(leaf)) is not None
        }
        for problem in self.problems():
            yield problem
            name = whole_vars.get(problem.path)
            if name is not None and problem.path[:1] != ("vars",):
                yield self.at_var(name, problem.path, problem.message)

    def literal_var(self, template: Template) -> str | None:
        """``x`` when the template is exactly ``${{ vars.x }}`` and vars.x is written as a
        plain value (not a template)."""
        whole = template.whole
        if whole is None:
            return None
        source = whole.expression.source.strip()
        name = source.removeprefix("vars.")
        if source == name or not self.is_literal_var(name):
            return None
        return name

    def is_literal_var(self, name: str) -> bool:
        value = self.playbook.vars.get(name, "${{")
        return not (isinstance(value, str) and "${{" in value)

    def at_var(self, name: str, use: KeyPath, message: str) -> Diagnostic:
        return self.source.diagnostic(
            ("vars", name), f"read by {format_key_path(use)}: {message}{self.var_hint(name)}"
        )

    def var_hint(self, name: str) -> str:
        """What is odd about a var that a problem reads: a number or a number written as
        text where an amount may be meant, or amount-like text with an unknown unit."""
        value = self.playbook.vars.get(name)
        if isinstance(value, bool) or value is None:
            return ""
        text = str(value).strip()
        if isinstance(value, Decimal) or _NUMBER.fullmatch(text):
            return f'; vars.{name} is the number {text}: an amount has a unit, e.g. "{text} ETH"'
        try:
            literal = parse_amount_text(text)
            self.facts.units.unit(literal.unit)
        except AmountError as error:
            return f"; vars.{name} is text, not an amount: {error}" if _UNIT.fullmatch(text) else ""
        return ""

    def problems(self) -> Iterator[Diagnostic]:
        yield from self.tokens()
        yield from self.step_ids()
        yield from self.wallet_references()
        for name, problem in self.facts.var_problems.items():
            yield self.source.diagnostic(("vars", name), problem)
        for path, leaf in self.leaves():
            if isinstance(leaf, AmountLiteral | RawAmount):
                yield from self.amount(path, leaf)
            elif isinstance(leaf, Template | Expression):
                yield from self.expression(path, leaf)
                yield from self.secret_references(path, leaf)
            elif isinstance(leaf, _Problem):
                yield self.source.diagnostic(path, leaf.message, offset=leaf.offset)
        for index, step in enumerate(self.playbook.steps):
            yield from step.check(("steps", index), self)
        yield from url_secrets(self)
        yield from idle_caps(self)

    def diagnostic(self, path: KeyPath, message: str) -> Diagnostic:
        return self.source.diagnostic(path, message)

    def tally_send(self, amount: Amount, network: str | None) -> Amount:
        key = (network, amount.symbol)
        self.sent_in_run[key] = self.sent_in_run.get(key, Decimal(0)) + amount.value
        total = sent_on_network(self.sent_in_run, amount.symbol, network, Decimal(0))
        return Amount(total, amount.symbol)

    def cap(self, name: str, symbol: str) -> Amount | None:
        return self.caps[name].get(symbol)

    def capped_symbols(self) -> set[str]:
        return {symbol for by_symbol in self.caps.values() for symbol in by_symbol}

    def amount_type(self, path: KeyPath) -> ExprType | None:
        return self.amount_types.get(path)

    def leaves(self) -> Iterator[tuple[KeyPath, Any]]:
        """Model leaves, with templated vars (kept as text in the model) parsed to templates."""
        for path, leaf in walk(self.playbook):
            if path[:1] == ("vars",) and isinstance(leaf, str) and "${{" in leaf:
                try:
                    yield path, Template.parse(leaf)
                except ExpressionError as error:
                    yield path, _Problem(error.message, error.offset)
            else:
                yield path, leaf

    def tokens(self) -> Iterator[Diagnostic]:
        for symbol in self.playbook.tokens:
            if symbol in NATIVE_UNITS:
                yield self.source.diagnostic(
                    ("tokens", symbol),
                    f"{symbol} is a built-in unit; tokens: cannot redefine it",
                    at_key=True,
                )

    def step_ids(self) -> Iterator[Diagnostic]:
        for index, step in enumerate(self.playbook.steps):
            if step.id is None:
                continue
            if step.id in self.steps:
                first = self.steps[step.id].index
                yield self.source.diagnostic(
                    ("steps", index, "id"), f"duplicate step id {step.id!r} (also steps[{first}])"
                )
                continue
            self.steps[step.id] = StepInfo(index, step.declared_outputs(self.facts))

    def wallet_alias(self, path: KeyPath, alias: str) -> Iterator[Diagnostic]:
        if alias not in self.playbook.wallets:
            hint = did_you_mean(alias, self.playbook.wallets)
            yield self.source.diagnostic(
                path, f"unknown wallet {alias!r}{hint}; declare it under wallets:"
            )

    def wallet_references(self) -> Iterator[Diagnostic]:
        daemon_wallet = self.playbook.daemon.wallet
        if daemon_wallet is not None:
            yield from self.wallet_alias(("daemon", "wallet"), daemon_wallet)
        for index, step in enumerate(self.playbook.steps):
            key = step.wallet_key
            if key is None:
                continue
            alias = step.wallet()
            if alias is not None:
                yield from self.wallet_alias(("steps", index, step.kind, key), alias)
            elif daemon_wallet is None:
                yield self.source.diagnostic(
                    ("steps", index, step.kind),
                    f"no wallet: set {key}: here or a default daemon.wallet",
                )
        for index, recipient in enumerate(self.playbook.limits.allow_to or []):
            if recipient not in self.playbook.wallets and (problem := address_problem(recipient)):
                hint = did_you_mean(recipient, self.playbook.wallets)
                yield self.source.diagnostic(("limits", "allow_to", index), problem + hint)
        for symbol, declared in self.playbook.tokens.items():
            if declared.address is not None and (problem := checksum_problem(declared.address)):
                yield self.source.diagnostic(("tokens", symbol, "address"), problem)

    def amount(self, path: KeyPath, literal: AmountLiteral | RawAmount) -> Iterator[Diagnostic]:
        try:
            self.facts.units.resolve(literal)
        except AmountError as error:
            yield self.source.diagnostic(path, str(error))

    def secret_references(self, path: KeyPath, leaf: Template | Expression) -> Iterator[Diagnostic]:
        """The session token may only feed daemon.token: anywhere else it could be printed
        (a log line) or sent (a memo)."""
        if path == ("daemon", "token"):
            return
        secret = self.token_env_names
        parts = (
            [(leaf, 0)]
            if isinstance(leaf, Expression)
            else [(p.expression, p.offset) for p in leaf.placeholders]
        )
        for expression, offset in parts:
            for root, name in sorted(referenced(expression)):
                if root == "env" and name in secret:
                    yield self.located(
                        path,
                        leaf,
                        f"env.{name} holds the session token; it can only be used in "
                        "daemon.token, so it never reaches a log, a memo or a message",
                        offset,
                    )

    def scope(self, path: KeyPath) -> Scope:
        section = str(path[0])
        index = path[1] if section == "steps" and isinstance(path[1], int) else None
        where = f"steps[{index}]" if index is not None else f"{section}:"
        return Scope(
            roots=_ROOTS.get(section, frozenset()),
            where=where,
            units=self.facts.units,
            vars=self.facts.var_types,
            env=self.facts.env,
            steps=self.steps,
            step_index=index,
        )

    def expression(self, path: KeyPath, leaf: Template | Expression) -> Iterator[Diagnostic]:
        scope = self.scope(path)
        try:
            if isinstance(leaf, Expression):
                kind = check_expression(leaf, scope)
                if kind.kind not in ("bool", "null", "any"):
                    yield self.located(path, leaf, f"a condition needs true/false, not {a(kind)}")
                yield from self.static_problems(path, leaf)
                yield from self.never_true(path, leaf)
                return
            kind = check_template(leaf, scope)
        except ExpressionError as error:
            yield self.located(path, leaf, error.message, error.offset)
            if path[0] != "vars" and not (isinstance(leaf, Template) and self.literal_var(leaf)):
                for name in dict.fromkeys(error.blame):
                    if self.is_literal_var(name):
                        yield self.at_var(name, path, error.message)
            return
        yield from self.static_problems(path, leaf)
        if path[0] == "vars" and leaf.whole is not None:
            self.facts.var_types[str(path[1])] = kind
        if leaf.expect is not None and leaf.expect.kind == "amount":
            self.amount_types[path] = kind
            yield from self.amount_template(path, leaf, kind)
        elif leaf.expect == STRING and leaf.whole is not None and kind.kind not in _TEXTUAL:
            yield self.located(
                path, leaf, f"expected text, the expression gives {a(kind)}", leaf.whole.offset
            )

    def static_problems(self, path: KeyPath, leaf: Template | Expression) -> Iterator[Diagnostic]:
        """Computes what can be computed now, so e.g. an overflow is a load error."""
        parts = (
            [(leaf, 0)]
            if isinstance(leaf, Expression)
            else [(p.expression, p.offset) for p in leaf.placeholders]
        )
        for expression, offset in parts:
            try:
                self.static_value(expression)
            except (EvaluationError, AmountError) as error:
                message = str(error).removeprefix(f"{expression.source}: ")
                yield self.located(path, leaf, message, offset)

    def never_true(self, path: KeyPath, condition: Expression) -> Iterator[Diagnostic]:
        """An ``if:`` that reads nothing at all and is false: the step is dead (``if: false``,
        ``1 > 2``, a mistyped comparison must not quietly switch a send off). A condition on
        vars is a switch a run may flip with --var, so it is left alone."""
        if path[-1] != "if" or referenced(condition) or _reads_clock(condition):
            return  # vars can be set per run (--var), so a condition on them is a switch
        try:
            value = self.static_value(condition)
        except (EvaluationError, AmountError):
            return  # reported by static_problems
        if value is None or value is False:
            yield self.located(
                path,
                condition,
                f"this condition is always {'null' if value is None else 'false'} (it reads "
                "nothing from the run), so the step would never run; remove the step, or make "
                "the condition read what it depends on (a step, a var, env)",
            )

    def amount_template(
        self, path: KeyPath, leaf: Template, kind: ExprType
    ) -> Iterator[Diagnostic]:
        if leaf.whole is None:
            yield self.located(
                path, leaf, 'an amount is "0.05 ETH" or exactly one ${{ expression }}'
            )
        elif kind.kind not in ("amount", "any"):
            yield self.located(
                path,
                leaf,
                f'expected an amount, the expression gives {a(kind)}: use amount(x, "ETH")',
                leaf.whole.offset,
            )

    def located(
        self, path: KeyPath, leaf: Template | Expression, message: str, offset: int = 0
    ) -> Diagnostic:
        written = self.source.scalars.get(path)
        lead = 0
        if isinstance(leaf, Expression) and written is not None:
            lead = written.text.find(leaf.source) if leaf.source in written.text else 0
        return self.source.diagnostic(path, message, offset=lead + offset)

    def static_value(self, expression: Expression) -> Value | None:
        """The value of an expression that reads only literal vars (None if not static).

        Raises EvaluationError when such an expression cannot be computed (e.g. overflow),
        so the problem is reported now rather than in the middle of a run.
        """
        if not self.is_static(expression):
            return None
        return evaluate(expression, EvalContext(self.facts.units, vars=self.facts.static_vars))

    def is_static(self, expression: Expression) -> bool:
        """Whether the expression reads only literal vars (or nothing), so its value is known."""
        names = referenced(expression)
        return all(root == "vars" and name in self.facts.static_vars for root, name in names)

    def static_amount(self, value: Any) -> Amount | None:
        """The amount a send field has before any run, if it can be known."""
        try:
            if isinstance(value, AmountLiteral | RawAmount):
                return self.facts.units.resolve(value)
            if isinstance(value, Template) and value.whole is not None:
                result = self.static_value(value.whole.expression)
                return result if isinstance(result, Amount) else None
        except (AmountError, EvaluationError):
            return None
        return None

    def static_text(self, template: Template) -> str | None:
        whole = template.whole
        value = self.static_value(whole.expression) if whole is not None else None
        return value if isinstance(value, str) else None
