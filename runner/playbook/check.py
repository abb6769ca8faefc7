"""Checks that need the whole playbook: references, units, expressions, limits.

Runs after the models validated; every problem becomes a located diagnostic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from runner.playbook.amounts import (
    NATIVE_SYMBOLS,
    NATIVE_UNITS,
    Amount,
    AmountError,
    AmountLiteral,
    RawAmount,
)
from runner.playbook.diagnostics import Diagnostic, KeyPath, did_you_mean
from runner.playbook.evaluate import EvalContext, EvaluationError, evaluate
from runner.playbook.expressions import Expression, ExpressionError, Template
from runner.playbook.exprtypes import STRING, ExprType, a
from runner.playbook.facts import Facts, referenced, walk
from runner.playbook.loader import SourceMap
from runner.playbook.typecheck import Scope, StepInfo, check_expression, check_template
from runner.playbook.values import Value
from runner.steps.balance import BalanceStep
from runner.steps.notify import NotifyStep
from runner.steps.send import SendSettings, SendStep

__all__ = ["ADDRESS", "check_playbook"]

# EVM 0x-hex, Solana base58 public key, XRPL classic address
ADDRESS = re.compile(
    r"^(0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{32,44}|r[1-9A-HJ-NP-Za-km-z]{24,34})$"
)

# which roots expressions may read, by top-level section
_ROOTS = {
    "daemon": frozenset({"env"}),
    "wallets": frozenset({"env", "vars"}),
    "vars": frozenset({"env", "run"}),
    "notify": frozenset({"env", "vars", "run"}),
    "steps": frozenset({"env", "vars", "run", "steps"}),
}
_TEXTUAL = ("string", "any", "null")
MAX_MEMO = 256  # the daemon's limit
# step kind -> (attribute of its settings, key as written) naming the wallet it acts on
_WALLET_KEYS = {
    "balance": ("wallet", "wallet"),
    "assets": ("wallet", "wallet"),
    "pending": ("wallet", "wallet"),
    "send": ("from_", "from"),
}


@dataclass(frozen=True)
class _Problem:
    message: str
    offset: int


def check_playbook(facts: Facts, source: SourceMap) -> list[Diagnostic]:
    return list(_Checks(facts, source).run())


class _Checks:
    def __init__(self, facts: Facts, source: SourceMap) -> None:
        self.facts = facts
        self.playbook = facts.playbook
        self.source = source
        self.steps: dict[str, StepInfo] = {}

    def run(self) -> Iterator[Diagnostic]:
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
        yield from self.sends()

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
            if step.kind not in _WALLET_KEYS:
                continue
            attribute, key = _WALLET_KEYS[step.kind]
            alias = getattr(getattr(step, step.kind), attribute)
            if alias is not None:
                yield from self.wallet_alias(("steps", index, step.kind, key), alias)
            elif daemon_wallet is None:
                yield self.source.diagnostic(
                    ("steps", index, step.kind),
                    f"no wallet: set {key}: here or a default daemon.wallet",
                )
        for index, step in enumerate(self.playbook.steps):
            token = step.balance.token if isinstance(step, BalanceStep) else None
            if (
                token is not None
                and token not in self.playbook.tokens
                and token not in NATIVE_SYMBOLS.values()
            ):
                hint = did_you_mean(
                    token, [*self.playbook.tokens, *sorted(set(NATIVE_SYMBOLS.values()))]
                )
                yield self.source.diagnostic(
                    ("steps", index, "balance", "token"),
                    f"unknown token {token!r}{hint}; declare it under tokens:",
                )
        for index, recipient in enumerate(self.playbook.limits.allow_to or []):
            if recipient not in self.playbook.wallets and not ADDRESS.match(recipient):
                hint = did_you_mean(recipient, self.playbook.wallets)
                yield self.source.diagnostic(
                    ("limits", "allow_to", index),
                    f"{recipient!r} is neither a wallet alias nor an address{hint}",
                )
        for index, step in enumerate(self.playbook.steps):
            if (
                isinstance(step, NotifyStep)
                and step.notify.webhook is None
                and self.playbook.notify is None
            ):
                yield self.source.diagnostic(
                    ("steps", index, "notify"),
                    "no webhook: set webhook: here or a top-level notify:",
                )

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
        token = self.playbook.daemon.token
        secret = {"WAIAAS_SESSION_TOKEN"} | {
            name
            for p in (token.placeholders if token else [])
            for root, name in referenced(p.expression)
            if root == "env"
        }
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
                return
            kind = check_template(leaf, scope)
        except ExpressionError as error:
            yield self.located(path, leaf, error.message, error.offset)
            return
        yield from self.static_problems(path, leaf)
        if path[0] == "vars" and leaf.whole is not None:
            self.facts.var_types[str(path[1])] = kind
        if leaf.expect is not None and leaf.expect.kind == "amount":
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
        names = referenced(expression)
        if not all(root == "vars" and name in self.facts.static_vars for root, name in names):
            return None
        return evaluate(expression, EvalContext(self.facts.units, vars=self.facts.static_vars))

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

    def sends(self) -> Iterator[Diagnostic]:
        limits = self.playbook.limits
        caps = {
            name: {amount.symbol: amount for amount in map(self.static_amount, literals) if amount}
            for name, literals in limits.caps().items()
        }
        per_run: dict[str, Amount] = {}
        for index, step in enumerate(self.playbook.steps):
            if not isinstance(step, SendStep):
                continue
            settings = step.send
            path = ("steps", index, "send")
            yield from self.recipient((*path, "to"), settings.to)
            memo = settings.memo
            if memo is not None and memo.is_static and len(memo.source) > MAX_MEMO:
                yield self.source.diagnostic(
                    (*path, "memo"), f"memo is {len(memo.source)} characters; at most {MAX_MEMO}"
                )
            amount = self.static_amount(settings.amount)
            if amount is None:
                continue
            yield from self.native_coin(path, settings, amount)
            total = per_run.get(amount.symbol)
            per_run[amount.symbol] = Amount(
                amount.value + (total.value if total else 0), amount.symbol
            )
            checks = (
                ("max_per_send", amount),
                ("max_per_day", amount),
                ("max_per_run", per_run[amount.symbol]),
            )
            for cap_name, value in checks:
                cap = caps[cap_name].get(amount.symbol)
                if cap is not None and value.value > cap.value:
                    what = "sends in this run add up to" if value is not amount else "the amount is"
                    yield self.source.diagnostic(
                        (*path, "amount"), f"{what} {value}, over limits.{cap_name} ({cap})"
                    )

    def recipient(self, path: KeyPath, to: Template) -> Iterator[Diagnostic]:
        """A recipient known before the run must be a wallet or an address, and allowed."""
        try:
            recipient = to.source if to.is_static else self.static_text(to)
        except (EvaluationError, AmountError):
            return  # reported where the expression is checked
        if recipient is None:
            return
        allowed = self.playbook.limits.allow_to
        if allowed is not None and recipient not in allowed:
            yield self.source.diagnostic(path, f"recipient {recipient!r} is not in limits.allow_to")
        if recipient not in self.playbook.wallets and not ADDRESS.match(recipient):
            hint = did_you_mean(recipient, self.playbook.wallets)
            yield self.source.diagnostic(
                path, f"{recipient!r} is neither a wallet alias nor an address{hint}"
            )

    def static_text(self, template: Template) -> str | None:
        whole = template.whole
        value = self.static_value(whole.expression) if whole is not None else None
        return value if isinstance(value, str) else None

    def native_coin(
        self, path: KeyPath, settings: SendSettings, amount: Amount
    ) -> Iterator[Diagnostic]:
        network = (
            settings.network.source if settings.network and settings.network.is_static else None
        )
        network = network or self.facts.network_of(settings.from_)
        token = self.playbook.tokens.get(amount.symbol)
        expected = token.network.source if token and token.network.is_static else None
        if network is None or (token is None and amount.symbol not in NATIVE_SYMBOLS.values()):
            return
        if token is None and NATIVE_SYMBOLS[network] != amount.symbol:
            yield self.source.diagnostic(
                (*path, "amount"),
                f"{amount.symbol} is not the native coin of {network} ({NATIVE_SYMBOLS[network]})",
            )
        elif expected is not None and expected != network:
            yield self.source.diagnostic(
                (*path, "amount"),
                f"token {amount.symbol} is declared on {expected}, the send is on {network}",
            )
