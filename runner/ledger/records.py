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
    symbol in intents since ``since`` (in flight included), checked in the same transaction
    that writes the intent, so concurrent processes cannot both squeeze under it."""

    cap_raw: int
    since: float


class CapExceeded(RunnerError):
    def __init__(self, spent_raw: int) -> None:
        super().__init__(f"{spent_raw} smallest units already spent")
        self.spent_raw = spent_raw


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
        if self.state is SendState.NOT_SENT:
            return False
        return self.tx_status not in _NOT_SPENT


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


def spent(db: sqlite3.Connection, symbol: str, since: float, excluding: str | None) -> int:
    rows = db.execute(
        "SELECT * FROM sends WHERE symbol = ? AND intended_at >= ? AND key IS NOT ?",
        (symbol, since, excluding),
    )
    return sum(intent.amount_raw for intent in map(intent_from_row, rows) if intent.counts_as_spent)


def intent_from_row(row: sqlite3.Row) -> SendIntent:
    values = dict(row)
    values["amount_raw"] = int(values["amount_raw"])
    values["request"] = json.loads(values["request"])
    values["state"] = SendState(values["state"])
    return SendIntent(**values)
