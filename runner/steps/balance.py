"""``balance``: read one wallet's balance of its native coin or of one declared token."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from runner.playbook.amounts import NATIVE_SYMBOLS
from runner.playbook.exprtypes import NUMBER, STRING, ExprType, amount_of
from runner.playbook.fields import Identifier, NetworkName
from runner.steps.base import Model, StaticFacts, StepModel, StepOutput

if TYPE_CHECKING:
    from runner.engine.context import RunContext


class BalanceSettings(Model):
    wallet: Identifier | None = Field(None, description="wallet alias; default daemon.wallet")
    network: NetworkName | None = Field(None, description="default: the wallet's network")
    token: str | None = Field(None, description="a symbol from tokens:; default the native coin")


class BalanceStep(StepModel):
    kind: ClassVar[str] = "balance"
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

    async def run(self, context: RunContext) -> StepOutput:
        from runner.engine.holdings import native_holding, token_holding  # see base.py

        settings = self.balance
        wallet = await context.wallet(settings.wallet)
        network = context.render_text(settings.network) if settings.network else wallet.network
        if settings.token is not None:
            holding = await token_holding(
                context, wallet, network, settings.token, absent_is_zero=True
            )
        else:
            expected = NATIVE_SYMBOLS.get(network) if network else None
            holding = await native_holding(context, wallet, network, expected)
        return {
            "amount": holding.amount,
            "raw": holding.raw,
            "decimals": holding.decimals,
            "symbol": holding.symbol,
            "network": holding.network,
            "address": holding.address or wallet.address,
        }
