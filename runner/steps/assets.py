"""``assets``: list one wallet's native and token balances (read by symbol)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from runner.playbook.exprtypes import AMOUNT_MAP, NUMBER, STRING, ExprType, list_of
from runner.playbook.fields import Identifier, NetworkName
from runner.steps.base import Model, StepModel, StepOutput

if TYPE_CHECKING:
    from runner.engine.context import RunContext


class AssetsSettings(Model):
    wallet: Identifier | None = Field(None, description="wallet alias; default daemon.wallet")
    network: NetworkName | None = Field(None, description="default: the wallet's network")


class AssetsStep(StepModel):
    """Outputs ``balances.<SYMBOL>`` (an amount; 0 when the token is not held), ``symbols``
    and ``count``."""

    kind: ClassVar[str] = "assets"
    outputs: ClassVar[dict[str, ExprType]] = {
        "balances": AMOUNT_MAP,
        "symbols": list_of(STRING),
        "count": NUMBER,
    }
    assets: AssetsSettings

    async def run(self, context: RunContext) -> StepOutput:
        from runner.client import to_token_units
        from runner.playbook import Amount

        settings = self.assets
        wallet = await context.wallet(settings.wallet)
        network = context.render_text(settings.network) if settings.network else wallet.network
        answer = await context.client.get_assets(network, wallet_id=wallet.id)
        resolved = answer.network or network or ""

        def projected(symbol: str) -> int:  # plan mode: what earlier planned sends changed
            return context.projected.get((wallet.id or "", resolved, symbol), 0)

        # a declared token the daemon leaves out (it omits zero balances) reads as 0
        balances: dict[str, Amount] = {
            symbol: Amount(to_token_units(projected(symbol), token.decimals), symbol)
            for symbol, token in context.playbook.tokens.items()
            if token.network.source == resolved
        }
        for asset in answer.assets:
            raw = asset.raw + projected(asset.symbol)
            balances[asset.symbol] = Amount(to_token_units(raw, asset.decimals), asset.symbol)
        return {"balances": balances, "symbols": sorted(balances), "count": len(answer.assets)}
