"""Exactly-once bookkeeping: the run ledger and reconciliation after ambiguous sends."""

from runner.ledger.reconcile import Reconciliation, Verdict, reconcile
from runner.ledger.records import (
    CapExceeded,
    DailyCap,
    LedgerError,
    RunRecord,
    SendIntent,
    SendState,
    StepRecord,
)
from runner.ledger.store import Ledger, default_ledger_path

__all__ = [
    "CapExceeded",
    "DailyCap",
    "Ledger",
    "LedgerError",
    "Reconciliation",
    "RunRecord",
    "SendIntent",
    "SendState",
    "StepRecord",
    "Verdict",
    "default_ledger_path",
    "reconcile",
]
