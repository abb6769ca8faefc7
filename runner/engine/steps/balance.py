"""Running ``balance``: one wallet's balance of its native coin or of one declared token."""

from __future__ import annotations

from runner.engine.holdings import native_holding, token_holding
from runner.engine.scope import StepScope
from runner.engine.steps.base import StepOutput
from runner.playbook.amounts import NATIVE_SYMBOLS
from runner.playbook.steps.balance import BalanceStep
from runner.playbook.values import SmallestUnits


async def run(step: BalanceStep, scope: StepScope) -> StepOutput:
    settings = step.balance
    wallet = await scope.wallets.wallet(settings.wallet)
    network = scope.render_text(settings.network) if settings.network else wallet.network
    if settings.token is not None:
        holding = await token_holding(scope, wallet, network, settings.token, absent_is_zero=True)
    else:
        expected = NATIVE_SYMBOLS.get(network) if network else None
        holding = await native_holding(scope, wallet, network, expected)
    return {
        "amount": holding.amount,
        "raw": SmallestUnits(holding.raw),
        "decimals": holding.decimals,
        "symbol": holding.symbol,
        "network": holding.network,
        "address": holding.address or wallet.address,
    }
