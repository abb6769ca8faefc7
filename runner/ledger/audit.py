"""The ledger against what the daemon did: judging one wallet's transaction list.

Reconciliation (``runner.ledger.reconcile``) asks "did *this* send create a transaction?"
right after its answer was lost. An audit asks the opposite, afterwards: which of the
wallet's transactions did no send intend, and which intents does the daemon not bear out.
It uses reconciliation's rules for "the same transfer" (recipient, amount, type, network:
:func:`~runner.ledger.reconcile.matches`) and for "when was it created"
(:func:`~runner.ledger.reconcile.created_within`).

What is judged, for one wallet, from the transactions read (newest first, back to the
audit's ``since``) and the ledger's intents:

- a transaction no intent of the ledger claims is a **likely double** when it is the same
  transfer as a send whose own transaction the daemon holds and did not fail, created
  within ``near`` seconds of that send's intent; otherwise it is **foreign**;
- a send whose transaction the daemon does not know is **unknown to daemon**;
- a send whose transaction differs from what the ledger recorded (recipient, amount,
  type, network, wallet, or a final status) is a **mismatch**, and so is a transaction
  identical to a send the ledger records as not sent (the daemon did create it);
- a send still unsettled (``unknown``, or ``intended`` longer than a request can be in
  flight) is listed with the transactions that could be its own: a person decides, so
  none of those is called a double.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from runner.client import Transaction, TransactionStatus, same_address
from runner.ledger.reconcile import BOUNDARY_SECONDS, created_within, matches
from runner.ledger.records import SendIntent, SendState

__all__ = [
    "FINAL_STATUSES",
    "Finding",
    "FindingKind",
    "Unsettled",
    "WalletJudgement",
    "judge_wallet",
    "lookups_needed",
]

# Statuses the daemon never changes again; a ledger that recorded one must agree.
FINAL_STATUSES = frozenset({"CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"})
# After these the money did not move: an identical transfer next to such a send may be a
# deliberate retry by a person, never called a double (and never cancelled).
_NOT_MOVED = frozenset({"FAILED", "CANCELLED", "EXPIRED"})


class FindingKind(StrEnum):
    LIKELY_DOUBLE = "likely_double"
    FOREIGN = "foreign"
    UNKNOWN_TO_DAEMON = "unknown_to_daemon"
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    wallet_id: str
    summary: str
    tx_id: str | None = None
    send_key: str | None = None
    status: str | None = None  # the daemon's status of tx_id, when it has one

    @property
    def queued(self) -> bool:
        return self.status == TransactionStatus.QUEUED.value

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What makes two audits' findings the same finding (serve posts each once)."""
        return (self.kind.value, self.wallet_id, self.tx_id or "", self.send_key or "")


@dataclass(frozen=True)
class Unsettled:
    send_key: str
    state: str
    note: str | None
    candidates: tuple[str, ...]  # transactions that could be this send's own


@dataclass
class WalletJudgement:
    findings: list[Finding] = field(default_factory=list)
    unsettled: list[Unsettled] = field(default_factory=list)


def lookups_needed(
    transactions: Iterable[Transaction], intents: Iterable[SendIntent], since: float
) -> list[str]:
    """Transactions that sends since ``since`` name and the list read did not show: each
    is asked for by id (``GET /v1/transactions/{id}``, not the rate-limited list)."""
    seen = {tx.id for tx in transactions}
    return [
        intent.tx_id
        for intent in intents
        if intent.state is SendState.ACCEPTED
        and intent.tx_id
        and intent.tx_id not in seen
        and intent.intended_at >= since
    ]


def judge_wallet(
    wallet_id: str,
    transactions: list[Transaction],
    intents: list[SendIntent],
    *,
    claimed: set[str],
    looked_up: Mapping[str, Transaction | None],
    since: float,
    near: float,
    in_flight_since: float,
) -> WalletJudgement:
    """Judge one wallet. ``transactions``: the list read (created at or after ``since``);
    ``intents``: the ledger's sends from this wallet; ``claimed``: those of the listed
    transactions that a send of the ledger names (from any wallet); ``looked_up``: the
    answers for :func:`lookups_needed` (None: the daemon does not know it); intents newer
    than ``in_flight_since`` that are still ``intended`` may be waiting for their answer
    right now."""
    judgement = WalletJudgement()
    by_id = {tx.id: tx for tx in transactions}
    # the sends whose own transaction the daemon holds, and did not fail: their doubles
    held: dict[str, Transaction] = {}
    # sends whose transaction is in question: identical transfers may be their own
    doubtful: list[SendIntent] = []
    for intent in intents:
        if intent.state is SendState.ACCEPTED and intent.tx_id is not None:
            if intent.intended_at < since:
                own = by_id.get(intent.tx_id)
                if own is not None and own.status.value not in _NOT_MOVED:
                    held[intent.key] = own
                continue
            own = by_id.get(intent.tx_id) or looked_up.get(intent.tx_id)
            problem = _claim_problem(wallet_id, intent, own, judgement)
            if problem:
                doubtful.append(intent)
            elif own is not None and own.status.value not in _NOT_MOVED:
                held[intent.key] = own
        elif intent.state in (SendState.UNKNOWN, SendState.INTENDED):
            doubtful.append(intent)
    candidates: dict[str, list[str]] = {intent.key: [] for intent in doubtful}
    for tx in transactions:
        if tx.id in claimed:
            continue
        owner = _possible_owner(tx, doubtful)
        if owner is not None and owner.state is SendState.ACCEPTED:
            judgement.findings.append(
                Finding(
                    FindingKind.MISMATCH,
                    wallet_id,
                    f"{_describe(tx)} is identical to send {owner.key}, whose recorded "
                    f"transaction {owner.tx_id} is in question: it may be the send's own",
                    tx.id,
                    owner.key,
                    tx.status.value,
                )
            )
            continue
        if owner is not None:
            candidates[owner.key].append(tx.id)
            continue
        judgement.findings.append(_unclaimed(wallet_id, tx, intents, held, near))
    for intent in doubtful:
        in_flight = intent.state is SendState.INTENDED and intent.intended_at >= in_flight_since
        if intent.state is SendState.ACCEPTED or in_flight:
            continue  # already a finding / a send waiting for its answer right now
        judgement.unsettled.append(
            Unsettled(intent.key, intent.state.value, intent.note, tuple(candidates[intent.key]))
        )
    return judgement


def _claim_problem(
    wallet_id: str, intent: SendIntent, own: Transaction | None, judgement: WalletJudgement
) -> bool:
    """Compare a send with the transaction it names; True when that transaction is in
    question (so an identical one may be the send's real transaction, not a double)."""
    key, tx_id = intent.key, intent.tx_id
    if own is None:
        judgement.findings.append(
            Finding(
                FindingKind.UNKNOWN_TO_DAEMON,
                wallet_id,
                f"send {key} names transaction {tx_id}, which the daemon does not know",
                tx_id,
                key,
            )
        )
        return True
    differences = _differences(intent, own)
    if differences:
        judgement.findings.append(
            Finding(
                FindingKind.MISMATCH,
                wallet_id,
                f"send {key} and its transaction {own.id} differ: {'; '.join(differences)}",
                own.id,
                key,
                own.status.value,
            )
        )
    # a transaction in another wallet, to another recipient or of another amount is not
    # this send's: whatever is identical to the send may be its real one
    return any(not d.startswith("status") for d in differences)


def _differences(intent: SendIntent, tx: Transaction) -> list[str]:
    found = []
    wallets = (tx.wallet_id, intent.wallet_id)
    if None not in wallets and wallets[0] != wallets[1]:
        found.append(f"wallet: ledger {intent.wallet_id}, daemon {tx.wallet_id}")
    if tx.to_address is not None and not same_address(tx.to_address, intent.to_address):
        found.append(f"recipient: ledger {intent.to_address}, daemon {tx.to_address}")
    if tx.amount is not None and int(tx.amount) != intent.amount_raw:
        found.append(
            f"amount: ledger {intent.amount_raw}, daemon {tx.amount} (smallest units of "
            f"{intent.symbol})"
        )
    sent_type = intent.transfer.type
    if tx.type is not None and tx.type != sent_type:
        found.append(f"type: ledger {sent_type}, daemon {tx.type}")
    if tx.network is not None and intent.network is not None and tx.network != intent.network:
        found.append(f"network: ledger {intent.network}, daemon {tx.network}")
    recorded = intent.tx_status
    if recorded in FINAL_STATUSES and tx.status.value != recorded:
        found.append(f"status: ledger {recorded}, daemon {tx.status.value}")
    return found


def _possible_owner(tx: Transaction, doubtful: list[SendIntent]) -> SendIntent | None:
    """The send in question that ``tx`` could belong to: the same transfer, created no
    earlier than reconciliation would allow (the nearest such send)."""
    created = created_within(tx)
    fits = [
        intent
        for intent in doubtful
        if matches(tx, intent.transfer)
        and (created is None or created[1] > intent.intended_at - BOUNDARY_SECONDS)
    ]
    return min(fits, key=lambda intent: _distance(tx, intent), default=None)


def _unclaimed(
    wallet_id: str,
    tx: Transaction,
    intents: list[SendIntent],
    held: Mapping[str, Transaction],
    near: float,
) -> Finding:
    same = [
        intent
        for intent in intents
        if matches(tx, intent.transfer) and _distance(tx, intent) <= near
    ]
    what = _describe(tx)
    doubled = [intent for intent in same if intent.key in held]
    if doubled:
        intent = min(doubled, key=lambda i: _distance(tx, i))
        own = held[intent.key]
        return Finding(
            FindingKind.LIKELY_DOUBLE,
            wallet_id,
            f"{what} is a likely double of send {intent.key} (its own transaction "
            f"{own.id} is {own.status.value}): created {_when(tx, intent)}",
            tx.id,
            intent.key,
            tx.status.value,
        )
    not_sent = [intent for intent in same if intent.state is SendState.NOT_SENT]
    if not_sent:
        intent = min(not_sent, key=lambda i: _distance(tx, i))
        return Finding(
            FindingKind.MISMATCH,
            wallet_id,
            f"{what} is identical to send {intent.key}, which the ledger records as not "
            f"sent: the daemon did create it ({_when(tx, intent)})",
            tx.id,
            intent.key,
            tx.status.value,
        )
    note = ""
    if same:  # identical to a send whose own transaction did not move money
        intent = min(same, key=lambda i: _distance(tx, i))
        note = f" (identical to send {intent.key}, whose own transaction did not go through)"
    return Finding(
        FindingKind.FOREIGN,
        wallet_id,
        f"{what} was not made by any send of this ledger{note}",
        tx.id,
        None,
        tx.status.value,
    )


def _distance(tx: Transaction, intent: SendIntent) -> float:
    """Seconds between the transaction's creation and the send's intent (0 if unknown)."""
    created = created_within(tx)
    if created is None:
        return 0.0
    if created[0] <= intent.intended_at < created[1]:
        return 0.0
    return min(abs(created[0] - intent.intended_at), abs(created[1] - intent.intended_at))


def _when(tx: Transaction, intent: SendIntent) -> str:
    created = created_within(tx)
    if created is None:
        return "at a time the daemon does not say"
    delta = created[0] - intent.intended_at
    seconds = f"{abs(delta):.2f}s" if abs(delta) < 10 else f"{abs(delta):.0f}s"
    return f"{seconds} {'after' if delta >= 0 else 'before'} its intent"


def _describe(tx: Transaction) -> str:
    if tx.amount_formatted and tx.amount_symbol:
        amount = f"{tx.amount_formatted} {tx.amount_symbol}"
    else:
        amount = f"{tx.amount or '?'} smallest units"
    kind = "" if (tx.type or "TRANSFER") == "TRANSFER" else f"{tx.type} "
    network = f" on {tx.network}" if tx.network else ""
    return (
        f"{kind}transaction {tx.id} ({tx.status.value}: {amount} to {tx.to_address or '?'}"
        f"{network})"
    )
