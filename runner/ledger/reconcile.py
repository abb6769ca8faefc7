"""After an ambiguous send: find out whether the daemon created the transaction.

The daemon has no idempotency key, so the only evidence is its transaction list (newest
first, 10 reads a minute per session). One page is read; a transaction matches when its
recipient, amount, type and network equal what was sent, it was created no earlier than
the intent (less a clock-skew allowance), and no other intent has claimed it already.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from runner.client import (
    Transaction,
    TransferRequest,
    WAIaaSClient,
    WAIaaSError,
    same_address,
)
from runner.ledger.records import SendIntent

__all__ = ["Reconciliation", "Verdict", "reconcile"]


class Verdict(StrEnum):
    FOUND = "found"  # exactly one unclaimed match: that is our transaction
    ABSENT = "absent"  # the list reaches back past the intent and nothing matches
    UNDECIDABLE = "undecidable"  # a person has to look


@dataclass(frozen=True)
class Reconciliation:
    verdict: Verdict
    reason: str
    transaction: Transaction | None = None


def matches(tx: Transaction, request: TransferRequest) -> bool:
    """Whether ``tx`` could be the transaction ``request`` created."""
    return (
        same_address(tx.to_address, request.to)
        and tx.amount == str(request.raw)
        and (tx.type or "TRANSFER") == request.type
        and (request.network is None or tx.network is None or tx.network == request.network)
    )


async def reconcile(
    client: WAIaaSClient,
    intent: SendIntent,
    *,
    claimed: set[str],
    clock_skew: float = 30.0,
    page_size: int = 100,
) -> Reconciliation:
    """Read the wallet's transaction list once and judge what became of ``intent``."""
    try:
        page = await client.list_transactions(limit=page_size, wallet_id=intent.wallet_id)
    except WAIaaSError as exc:
        return Reconciliation(Verdict.UNDECIDABLE, f"could not read the transaction list: {exc}")
    since = intent.intended_at - clock_skew
    request = intent.transfer
    recent = [tx for tx in page.items if tx.created_at is None or tx.created_at >= since]
    candidates = [tx for tx in recent if tx.id not in claimed and matches(tx, request)]
    if len(candidates) == 1:
        return Reconciliation(
            Verdict.FOUND, "the daemon holds a matching transaction", candidates[0]
        )
    if candidates:
        ids = ", ".join(tx.id for tx in candidates)
        return Reconciliation(Verdict.UNDECIDABLE, f"several transactions match: {ids}")
    reaches_back = not page.has_more or len(recent) < len(page.items)
    if reaches_back:
        return Reconciliation(Verdict.ABSENT, "no transaction since the intent matches")
    return Reconciliation(
        Verdict.UNDECIDABLE,
        f"more than {page_size} transactions since the intent; the list does not reach back",
    )
