"""Exactly-once bookkeeping: the run ledger and reconciliation after ambiguous sends."""

from runner.ledger.health import LedgerReport
from runner.ledger.reconcile import Reconciliation, Verdict, reconcile
from runner.ledger.records import (
    AWAITING_APPROVAL,
    CapExceeded,
    DailyCap,
    LedgerBusy,
    LedgerDamaged,
    LedgerError,
    LedgerWriteFailed,
    RunRecord,
    SendIntent,
    SendState,
    StepRecord,
)
from runner.ledger.store import Ledger, default_ledger_path

__all__ = [
    "AWAITING_APPROVAL",
    "CapExceeded",
    "DailyCap",
    "Ledger",
    "LedgerBusy",
    "LedgerDamaged",
    "LedgerError",
    "LedgerReport",
    "LedgerWriteFailed",
    "Reconciliation",
    "RunRecord",
    "SendIntent",
    "SendState",
    "StepRecord",
    "Verdict",
    "default_ledger_path",
    "reconcile",
]
