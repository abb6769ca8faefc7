"""Running ``transactions``: one read of a wallet's newest transactions, then a filter."""

from __future__ import annotations

from runner.engine.scope import StepScope
from runner.engine.steps.base import StepOutput
from runner.engine.steps.pending import summarize
from runner.playbook.steps.transactions import TransactionsStep


async def run(step: TransactionsStep, scope: StepScope) -> StepOutput:
    settings = step.transactions
    wallet = await scope.wallets.wallet(settings.wallet)
    page = await scope.run.client.list_transactions(settings.limit, wallet_id=wallet.id)
    cutoff = scope.run.clock() - settings.older_than.total_seconds()
    wanted = set(settings.status or ())
    matches = [
        tx
        for tx in page.items
        if (not wanted or tx.status.value in wanted)
        and tx.created_at is not None
        and tx.created_at <= cutoff
    ]
    return summarize(scope, matches)
