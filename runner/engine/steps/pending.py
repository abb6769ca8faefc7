"""Running ``pending``: a wallet's PENDING/QUEUED transactions, optionally until none."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from runner.client import PendingTransactions, Transaction
from runner.engine.scope import StepScope
from runner.engine.steps.base import StepOutput
from runner.errors import StepFailed
from runner.playbook.steps.pending import PendingStep
from runner.playbook.values import Value

# until_empty without a step timeout still ends
DEFAULT_POLL_LIMIT = timedelta(minutes=30)


async def run(step: PendingStep, scope: StepScope) -> StepOutput:
    settings = step.pending
    run_scope = scope.run
    wallet = await scope.wallets.wallet(settings.wallet)
    answer = await run_scope.client.list_pending_transactions(wallet_id=wallet.id)
    if not settings.until_empty or run_scope.planning:
        return _output(scope, answer)
    limit = (step.timeout or DEFAULT_POLL_LIMIT).total_seconds()
    deadline = run_scope.clock() + limit
    while answer.items:
        if run_scope.clock() >= deadline:
            raise StepFailed(
                f"{len(answer.items)} transaction(s) still pending on {wallet.label} "
                f"after {limit:g}s",
                _output(scope, answer),
            )
        await run_scope.sleep(min(settings.interval.total_seconds(), deadline - run_scope.clock()))
        answer = await run_scope.client.list_pending_transactions(wallet_id=wallet.id)
    return _output(scope, answer)


def _output(scope: StepScope, answer: PendingTransactions) -> StepOutput:
    return summarize(scope, answer.items)


def summarize(scope: StepScope, transactions: Sequence[Transaction]) -> StepOutput:
    """``count``, ``ids``, ``items`` and ``oldest_age`` (seconds since the oldest was created)
    of a list of transactions; the ``transactions`` step shares it."""
    created = [tx.created_at for tx in transactions if tx.created_at is not None]
    oldest_age = max(0, int(scope.run.clock()) - min(created)) if created else 0
    items: list[Value] = [
        {
            "id": tx.id,
            "status": tx.status.value,
            "tier": None if tx.tier is None else str(tx.tier),
            "to": tx.to_address,
            "amount": tx.amount,
            "created_at": None if tx.created_at is None else Decimal(tx.created_at),
        }
        for tx in transactions
    ]
    return {
        "count": len(transactions),
        "ids": [tx.id for tx in transactions],
        "items": items,
        "oldest_age": Decimal(oldest_age),
    }
