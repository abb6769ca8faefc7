"""``send``: transfer an amount from a playbook wallet to a wallet alias or an address."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

from pydantic import Field

from runner.playbook.addresses import address_problem, same_address
from runner.playbook.amounts import NATIVE_SYMBOLS, Amount, AmountError, AmountLiteral, RawAmount
from runner.playbook.diagnostics import Diagnostic, KeyPath, did_you_mean
from runner.playbook.evaluate import EvaluationError
from runner.playbook.exprtypes import BOOL, NUMBER, STRING, ExprType, amount_of
from runner.playbook.fields import (
    AmountValue,
    Identifier,
    Model,
    NetworkName,
    TemplateText,
    TextValue,
)
from runner.playbook.steps.base import Checker, StaticFacts, StepModel

MAX_MEMO = 256  # the daemon's limit (the client checks it again on every request)


class SendSettings(Model):
    from_: Identifier | None = Field(
        None, alias="from", description="wallet alias; default daemon.wallet"
    )
    to: TextValue = Field(description="a wallet alias from wallets: or an address")
    amount: AmountValue = Field(description='e.g. "0.08 ETH", "250 USDC", {raw: 1500, token: ETH}')
    memo: TemplateText | None = Field(None, description="at most 256 characters")
    network: NetworkName | None = Field(None, description="default: the sending wallet's network")
    allow_zero: bool = Field(
        False, description="post the send even when its amount is zero (refused otherwise)"
    )


class SendStep(StepModel):
    """Sends are exactly-once per (playbook, scheduled run, step); see the engine."""

    kind: ClassVar[str] = "send"
    wallet_key: ClassVar[str | None] = "from"
    sends: ClassVar[bool] = True
    outputs: ClassVar[dict[str, ExprType]] = {
        "sent": BOOL,
        "would_send": BOOL,
        "adopted": BOOL,
        "id": STRING,
        "status": STRING,
        "tier": STRING,
        "amount": amount_of(None),
        "raw": NUMBER,
        "to": STRING,
        "network": STRING,
    }
    send: SendSettings

    def declared_outputs(self, facts: StaticFacts) -> dict[str, ExprType]:
        amount = self.send.amount
        symbol = None
        try:
            if isinstance(amount, AmountLiteral):
                symbol = facts.units.unit(amount.unit).symbol
            elif isinstance(amount, RawAmount):
                symbol = facts.units.unit(amount.token).symbol
        except AmountError:
            symbol = None  # reported where the amount is checked
        return {**super().declared_outputs(facts), "amount": amount_of(symbol)}

    def default_id(self, index: int, steps: Sequence[StepModel]) -> str:
        """An unnamed send is named by what it sends, not by its position (which shifts
        when a step is added above it: its exactly-once key must not). Give sends an id."""
        fingerprint = self.fingerprint()
        twins = sum(
            1
            for earlier in steps[:index]
            if earlier.sends and not earlier.id and earlier.fingerprint() == fingerprint
        )
        return f"send-{fingerprint}" + (f"-{twins + 1}" if twins else "")

    def check(self, path: KeyPath, checker: Checker) -> Iterator[Diagnostic]:
        settings = self.send
        path = (*path, "send")
        yield from self._recipient((*path, "to"), checker)
        memo = settings.memo
        if memo is not None and memo.is_static and len(memo.source) > MAX_MEMO:
            yield checker.diagnostic(
                (*path, "memo"), f"memo is {len(memo.source)} characters; at most {MAX_MEMO}"
            )
        yield from self._send_count(path, checker)
        amount = checker.static_amount(settings.amount)
        yield from self._uncapped_token(path, checker, amount)
        if amount is None:
            return
        yield from self._sendable(path, checker, amount)
        yield from self._native_coin(path, checker, amount)
        total = checker.tally_send(amount, self._static_network(checker))
        checks = (("max_per_send", amount), ("max_per_day", amount), ("max_per_run", total))
        for cap_name, value in checks:
            cap = checker.cap(cap_name, amount.symbol)
            if cap is not None and value.value > cap.value:
                what = "sends in this run add up to" if value is not amount else "the amount is"
                yield checker.diagnostic(
                    (*path, "amount"), f"{what} {value}, over limits.{cap_name} ({cap})"
                )

    def _send_count(self, path: KeyPath, checker: Checker) -> Iterator[Diagnostic]:
        """Each send step posts at most one transaction a run. Sends without ``if:`` always
        run, so one past max_sends_per_run would stop every run halfway through its sends:
        an error now. Sends with a condition are counted by the engine, before posting."""
        playbook = checker.facts.playbook
        cap = playbook.limits.max_sends_per_run
        index = path[1]
        if cap is None or not isinstance(index, int) or self.if_ is not None:
            return
        number = sum(1 for s in playbook.steps[: index + 1] if s.sends and s.if_ is None)
        if number > cap:
            yield checker.diagnostic(
                (*path[:-1], self.kind),
                f"this is unconditional send {number} of the run, over "
                f"limits.max_sends_per_run ({cap})",
            )

    def _sendable(self, path: KeyPath, checker: Checker, amount: Amount) -> Iterator[Diagnostic]:
        """A static amount must exist on chain: whole smallest units, within 2^256-1, and not
        zero unless the send says ``allow_zero: true``."""
        try:
            raw = amount.to_raw(checker.facts.units.decimals(amount.symbol))
        except AmountError as error:
            yield checker.diagnostic((*path, "amount"), str(error))
            return
        if raw < 0:
            yield checker.diagnostic((*path, "amount"), f"cannot send a negative amount ({amount})")
        elif raw == 0 and not self.send.allow_zero:
            yield checker.diagnostic(
                (*path, "amount"),
                f"this sends {amount}: a zero send is refused unless the send says "
                "allow_zero: true",
            )

    def _uncapped_token(
        self, path: KeyPath, checker: Checker, amount: Amount | None
    ) -> Iterator[Diagnostic]:
        """Limits are per token: once a playbook caps amounts, a send of a token that no cap
        names would be unlimited, so it is an error rather than a silent hole."""
        covered = sorted(checker.capped_symbols())
        kind = checker.amount_type((*path, "amount"))
        symbol = amount.symbol if amount else (kind.symbol if kind else None)
        if not covered or symbol is None or symbol in covered:
            return  # a token only known at run time is checked by the engine, before sending
        yield checker.diagnostic(
            (*path, "amount"),
            f"{symbol} is not covered by any amount limit (limits cap {', '.join(covered)}): "
            f'add a cap for it, e.g. max_per_send: [..., "<amount> {symbol}"]',
        )

    def _recipient(self, path: KeyPath, checker: Checker) -> Iterator[Diagnostic]:
        """A recipient known before the run must be a wallet or an address, and allowed."""
        to = self.send.to
        try:
            recipient = to.source if to.is_static else checker.static_text(to)
        except (EvaluationError, AmountError):
            return  # reported where the expression is checked
        if recipient is None:
            return
        playbook = checker.facts.playbook
        sender = self.send.from_ or playbook.daemon.wallet
        if recipient == sender:
            yield checker.diagnostic(
                path, f"the recipient {recipient!r} is the sending wallet itself"
            )
        allowed = playbook.limits.allow_to
        if allowed is not None and not any(same_address(recipient, entry) for entry in allowed):
            yield checker.diagnostic(path, f"recipient {recipient!r} is not in limits.allow_to")
        if recipient not in playbook.wallets and (problem := address_problem(recipient)):
            yield checker.diagnostic(path, problem + did_you_mean(recipient, playbook.wallets))

    def _static_network(self, checker: Checker) -> str | None:
        """The network the send goes to, when the file says it (None: known only at run time)."""
        settings = self.send
        if settings.network is not None:
            return settings.network.source if settings.network.is_static else None
        return checker.facts.network_of(settings.from_)

    def _native_coin(self, path: KeyPath, checker: Checker, amount: Amount) -> Iterator[Diagnostic]:
        network = self._static_network(checker)
        token = checker.facts.playbook.tokens.get(amount.symbol)
        expected = token.network.source if token and token.network.is_static else None
        if network is None or (token is None and amount.symbol not in NATIVE_SYMBOLS.values()):
            return
        if token is None and NATIVE_SYMBOLS[network] != amount.symbol:
            yield checker.diagnostic(
                (*path, "amount"),
                f"{amount.symbol} is not the native coin of {network} ({NATIVE_SYMBOLS[network]})",
            )
        elif expected is not None and expected != network:
            yield checker.diagnostic(
                (*path, "amount"),
                f"token {amount.symbol} is declared on {expected}, the send is on {network}",
            )
