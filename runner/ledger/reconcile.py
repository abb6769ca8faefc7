"""After an ambiguous send: find out whether the daemon created the transaction.

The daemon has no idempotency key, so the only evidence is its transaction list (newest
first, 10 reads a minute per session). One page is read; a transaction matches when its
recipient, amount, type and network equal what was sent and no other intent of this
ledger has claimed it already.

When it was created decides whether it can be ours. The daemon accepts only localhost
clients, so it reads the runner's clock: a send cannot be created before its intent was
committed. Creation times come from the transaction id (a UUIDv7 carries milliseconds)
when it agrees with ``createdAt``, else from ``createdAt`` (whole seconds). A match
created clearly before the intent is someone else's identical transfer and never
adopted; one too close to the intent to tell (within ``BOUNDARY_SECONDS`` before it, or
a whole second straddling it) makes the verdict "a person must look", never "found".
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Container
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

__all__ = ["BOUNDARY_SECONDS", "Reconciliation", "Verdict", "created_within", "reconcile"]

# How far before the intent a match still cannot be ruled out: the clock may be stepped
# back a little between the intent and the daemon's insert (NTP), and a transfer made by
# another client a moment earlier is indistinguishable from ours by its fields.
BOUNDARY_SECONDS = 2.0


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


def created_within(tx: Transaction) -> tuple[float, float] | None:
    """When the daemon created ``tx``, as an interval ``[earliest, latest)`` in epoch
    seconds; None when the answer does not say."""
    try:
        parsed = uuid.UUID(tx.id)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.version == 7:
        millis = parsed.int >> 80
        earliest = millis / 1000
        # a UUIDv7 that disagrees with createdAt was not made from the same clock
        if tx.created_at is None or tx.created_at <= earliest < tx.created_at + 1:
            return earliest, earliest + 0.001
    if tx.created_at is None:
        return None
    return float(tx.created_at), float(tx.created_at + 1)


async def reconcile(
    client: WAIaaSClient,
    intent: SendIntent,
    *,
    claimed: Container[str],
    boundary: float = BOUNDARY_SECONDS,
    page_size: int = 100,
) -> Reconciliation:
    """Read the wallet's transaction list once and judge what became of ``intent``."""
    try:
        page = await client.list_transactions(limit=page_size, wallet_id=intent.wallet_id)
    except WAIaaSError as exc:
        return Reconciliation(Verdict.UNDECIDABLE, f"could not read the transaction list: {exc}")
    # the intent's time, to the millisecond a UUIDv7 can tell
    intended = math.floor(intent.intended_at * 1000) / 1000
    request = intent.transfer
    after, near, reaches_back = [], [], not page.has_more
    for tx in page.items:
        created = created_within(tx)
        if created is not None and created[1] <= intended - boundary:
            reaches_back = True  # the list goes back past the intent: nothing older matters
            continue
        if tx.id in claimed or not matches(tx, request):
            continue
        if created is not None and created[0] >= intended:
            after.append(tx)
        else:
            near.append(tx)
    if near:
        described = ", ".join(f"{tx.id} (created at {tx.created_at})" for tx in near)
        return Reconciliation(
            Verdict.UNDECIDABLE,
            f"a transaction identical to this send was created right around its intent "
            f"(at {intent.intended_at:.3f}): {described}; it may be another client's",
        )
    if len(after) == 1:
        return Reconciliation(Verdict.FOUND, "the daemon holds a matching transaction", after[0])
    if after:
        ids = ", ".join(tx.id for tx in after)
        return Reconciliation(Verdict.UNDECIDABLE, f"several transactions match: {ids}")
    if reaches_back:
        return Reconciliation(Verdict.ABSENT, "no transaction since the intent matches")
    return Reconciliation(
        Verdict.UNDECIDABLE,
        f"more than {page_size} transactions since the intent; the list does not reach back",
    )
