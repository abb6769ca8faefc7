"""What the ledger holds: its record types, and how a stored send is read back."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from runner.client import TransferRequest
from runner.errors import ExitCode, RunnerError

__all__ = [
    "CapExceeded",
    "DailyCap",
    "LedgerBusy",
    "LedgerDamaged",
    "LedgerError",
    "LedgerWriteFailed",
    "RunRecord",
    "SendIntent",
    "SendState",
    "StepRecord",
    "intent_from_row",
    "spent",
]


class LedgerError(RunnerError):
    """The ledger file cannot be opened or written (a path or permission problem)."""

    exit_code = ExitCode.INVALID


class LedgerDamaged(LedgerError):
    """SQLite found the file damaged: nothing more may be sent with this ledger."""


class LedgerWriteFailed(LedgerError):
    """A write did not reach the file (disk full, I/O error, read-only)."""

    exit_code = ExitCode.FAILED


class LedgerBusy(LedgerError):
    """Another process held the ledger's write lock for longer than the busy timeout."""

    exit_code = ExitCode.FAILED


@dataclass(frozen=True)
class DailyCap:
    """``max_per_day`` as the ledger enforces it: at most ``cap_raw`` smallest units of the
    request's symbol on the request's network in intents since ``since`` (in flight
    included), checked in the same transaction that writes the intent, so concurrent
    processes cannot both squeeze under it. ``playbook`` scopes it to that playbook's sends
    (a playbook's ``limits:``); None counts every send in the ledger (the runner config's).
    ``scope`` says which it is, for the refusal's message."""

    cap_raw: int
    since: float
    playbook: str | None = None
    scope: str = "every send in this ledger"


class CapExceeded(RunnerError):
    def __init__(self, spent_raw: int, cap: DailyCap | None = None) -> None:
        super().__init__(f"{spent_raw} smallest units already spent")
        self.spent_raw = spent_raw
        self.cap = cap


class SendState(StrEnum):
    INTENDED = "intended"  # committed, the request may or may not have left
    ACCEPTED = "accepted"  # the daemon answered with a transaction id
    UNKNOWN = "unknown"  # cannot tell whether a transaction exists: needs a person
    NOT_SENT = "not_sent"  # provably no transaction: the key may be posted again


# The note of a send whose transaction is QUEUED for the wallet owner's approval (set and
# cleared by the wait step): serve's status page lists it as waiting for a person.
AWAITING_APPROVAL = "awaiting the wallet owner's approval"

# Transaction statuses after which the money did not move.
_NOT_SPENT = frozenset({"FAILED", "CANCELLED", "EXPIRED"})


@dataclass(frozen=True)
class SendIntent:
    key: str
    run_id: str
    playbook: str
    step_id: str
    wallet_id: str | None
    network: str | None
    to_address: str
    amount_raw: int
    symbol: str
    request: dict[str, Any]
    state: SendState
    tx_id: str | None
    tx_status: str | None
    note: str | None
    intended_at: float
    updated_at: float

    @property
    def transfer(self) -> TransferRequest:
        """The request this intent recorded (and posts, or posted)."""
        return TransferRequest.from_body(self.request, self.symbol)

    @property
    def counts_as_spent(self) -> bool:
        """Whether this send counts against limits: anything that may have moved money."""
        return _may_have_moved(self.state, self.tx_status)


def _may_have_moved(state: str, tx_status: str | None) -> bool:
    return state != SendState.NOT_SENT and tx_status not in _NOT_SPENT


@dataclass(frozen=True)
class StepRecord:
    step_id: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    started_at: float
    finished_at: float


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    playbook: str
    scheduled_for: float | None
    started_at: float
    finished_at: float | None
    status: str
    exit_code: int | None


def spent(
    db: sqlite3.Connection,
    symbol: str,
    since: float,
    excluding: str | None,
    *,
    network: str | None = None,
    playbook: str | None = None,
) -> int:
    """Smallest units of ``symbol`` that may have left since ``since`` (in flight included),
    of ``playbook``'s sends (None: every playbook's), on ``network``.

    The same symbol on another network is another asset (testnet ETH is not mainnet ETH,
    USDC on two chains are two tokens) and never counts. A row whose network was not
    recorded (NULL: a request sent without one, in a ledger of any version) may have been
    on any network, so it counts toward every network of its symbol; a send whose own
    network is not known (None) counts every row of its symbol. Both err on the side of
    sending less. ``sends_by_playbook`` keeps the scoped sum to one index range."""
    # only the three columns the sum needs: no request JSON is parsed per row
    query = (
        "SELECT amount_raw, state, tx_status FROM sends "
        "WHERE symbol = ? AND intended_at >= ? AND key IS NOT ?"
    )
    args: list[object] = [symbol, since, excluding]
    if playbook is not None:
        query, args = query + " AND playbook = ?", [*args, playbook]
    if network is not None:
        query, args = query + " AND (network = ? OR network IS NULL)", [*args, network]
    rows = db.execute(query, args)
    return sum(int(raw) for raw, state, tx_status in rows if _may_have_moved(state, tx_status))


def intent_from_row(row: sqlite3.Row) -> SendIntent:
    values = dict(row)
    values["amount_raw"] = int(values["amount_raw"])
    values["request"] = json.loads(values["request"])
    values["state"] = SendState(values["state"])
    return SendIntent(**values)
