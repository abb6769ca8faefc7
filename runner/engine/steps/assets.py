"""Running ``assets``: one wallet's native and token balances, by symbol."""

from __future__ import annotations

from runner.client import to_token_units
from runner.engine.scope import StepScope
from runner.engine.steps.base import StepOutput
from runner.playbook import Amount
from runner.playbook.steps.assets import AssetsStep


async def run(step: AssetsStep, scope: StepScope) -> StepOutput:
    settings = step.assets
    wallet = await scope.wallets.wallet(settings.wallet)
    network = scope.render_text(settings.network) if settings.network else wallet.network
    answer = await scope.run.client.get_assets(network, wallet_id=wallet.id)
    resolved = answer.network or network or ""

    def projected(symbol: str) -> int:  # plan mode: what earlier planned sends changed
        return scope.projections.of(wallet.id, resolved, symbol)

    # a declared token the daemon leaves out (it omits zero balances) reads as 0
    balances: dict[str, Amount] = {
        symbol: Amount(to_token_units(projected(symbol), token.decimals), symbol)
        for symbol, token in scope.run.playbook.tokens.items()
        if token.network.source == resolved
    }
    for asset in answer.assets:
        raw = asset.raw + projected(asset.symbol)
        balances[asset.symbol] = Amount(to_token_units(raw, asset.decimals), asset.symbol)
    return {"balances": balances, "symbols": sorted(balances), "count": len(answer.assets)}
