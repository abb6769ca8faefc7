"""``balance``: read one wallet's balance of its native coin or of one declared token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import Field

from runner.playbook.amounts import NATIVE_SYMBOLS
from runner.playbook.diagnostics import Diagnostic, KeyPath, did_you_mean
from runner.playbook.exprtypes import NUMBER, STRING, ExprType, amount_of
from runner.playbook.fields import Identifier, Model, NetworkName
from runner.playbook.steps.base import Checker, StaticFacts, StepModel


class BalanceSettings(Model):
    wallet: Identifier | None = Field(None, description="wallet alias; default daemon.wallet")
    network: NetworkName | None = Field(None, description="default: the wallet's network")
    token: str | None = Field(None, description="a symbol from tokens:; default the native coin")


class BalanceStep(StepModel):
    kind: ClassVar[str] = "balance"
    wallet_key: ClassVar[str | None] = "wallet"
    outputs: ClassVar[dict[str, ExprType]] = {
        "amount": amount_of(None),
        "raw": NUMBER,
        "decimals": NUMBER,
        "symbol": STRING,
        "network": STRING,
        "address": STRING,
    }
    balance: BalanceSettings

    def declared_outputs(self, facts: StaticFacts) -> dict[str, ExprType]:
        settings = self.balance
        network = (
            settings.network.source if settings.network and settings.network.is_static else None
        )
        network = network or facts.network_of(settings.wallet)
        symbol = settings.token or (NATIVE_SYMBOLS.get(network) if network else None)
        return {**super().declared_outputs(facts), "amount": amount_of(symbol)}

    def check(self, path: KeyPath, checker: Checker) -> Iterator[Diagnostic]:
        token = self.balance.token
        tokens = checker.facts.playbook.tokens
        if token is None or token in tokens or token in NATIVE_SYMBOLS.values():
            return
        hint = did_you_mean(token, [*tokens, *sorted(set(NATIVE_SYMBOLS.values()))])
        yield checker.diagnostic(
            (*path, "balance", "token"), f"unknown token {token!r}{hint}; declare it under tokens:"
        )
