"""``pending``: list a wallet's PENDING/QUEUED transactions, optionally until none are left."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from runner.playbook.exprtypes import ANY, NUMBER, STRING, ExprType, list_of
from runner.playbook.fields import Duration, Identifier
from runner.steps.base import Model, StepModel, StepOutput
from runner.steps.errors import StepFailed

if TYPE_CHECKING:
    from runner.client import PendingTransactions
    from runner.engine.context import RunContext
    from runner.playbook.values import Value

# until_empty without a step timeout still ends
DEFAULT_POLL_LIMIT = timedelta(minutes=30)


class PendingSettings(Model):
    wallet: Identifier | None = Field(None, description="wallet alias; default daemon.wallet")
    until_empty: bool = Field(False, description="poll until the list is empty (or timeout)")
    interval: Duration = Field(timedelta(seconds=10), description="time between polls")


class PendingStep(StepModel):
    """``oldest_age`` is in seconds (0 when nothing is pending)."""

    kind: ClassVar[str] = "pending"
    outputs: ClassVar[dict[str, ExprType]] = {
        "count": NUMBER,
        "ids": list_of(STRING),
        "items": list_of(ANY),
        "oldest_age": NUMBER,
    }
    pending: PendingSettings

    async def run(self, context: RunContext) -> StepOutput:
        settings = self.pending
        wallet = await context.wallet(settings.wallet)
        answer = await context.client.list_pending_transactions(wallet_id=wallet.id)
        if not settings.until_empty or context.planning:
            return _output(context, answer)
        limit = (self.timeout or DEFAULT_POLL_LIMIT).total_seconds()
        deadline = context.clock() + limit
        while answer.items:
            if context.clock() >= deadline:
                raise StepFailed(
                    f"{len(answer.items)} transaction(s) still pending on {wallet.label} "
                    f"after {limit:g}s",
                    _output(context, answer),
                )
            await context.sleep(min(settings.interval.total_seconds(), deadline - context.clock()))
            answer = await context.client.list_pending_transactions(wallet_id=wallet.id)
        return _output(context, answer)


def _output(context: RunContext, answer: PendingTransactions) -> StepOutput:
    created = [tx.created_at for tx in answer.items if tx.created_at is not None]
    oldest_age = max(0, int(context.clock()) - min(created)) if created else 0
    items: list[Value] = [
        {
            "id": tx.id,
            "status": tx.status.value,
            "tier": None if tx.tier is None else str(tx.tier),
            "to": tx.to_address,
            "amount": tx.amount,
            "created_at": None if tx.created_at is None else Decimal(tx.created_at),
        }
        for tx in answer.items
    ]
    return {
        "count": len(answer.items),
        "ids": [tx.id for tx in answer.items],
        "items": items,
        "oldest_age": Decimal(oldest_age),
    }
