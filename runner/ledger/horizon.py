"""What the ledger no longer remembers: the prune horizon (schema version 4).

``ledger prune`` and serve's retention remove runs started before a horizon. A run for
such an old slot must then be refused, not run again: its record (and with it the proof
that its sends went out) may be gone, and exactly-once must not silently depend on rows
that were deleted. The horizon is one row of the ``pruned`` table: everything started
before ``before`` may have been removed; the totals say how much was.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from runner.client.models import TransactionStatus

__all__ = [
    "HORIZON_SCHEMA",
    "SENDS_GOING",
    "PruneHorizon",
    "advance_horizon",
    "read_horizon",
    "slot_problem",
]

_FINAL = ", ".join(f"'{status.value}'" for status in TransactionStatus if status.terminal)
# Sends still on their way (serve's /status and page show them on every view): written with
# literals, so that the partial index below, whose WHERE is this very text, answers it
# instead of a walk over every accepted send of the ledger's history.
SENDS_GOING = (
    "state = 'intended' OR (state = 'accepted' AND tx_status IS NOT NULL "
    f"AND tx_status NOT IN ({_FINAL}))"
)

# Applied with the rest of the schema on open; every statement is idempotent, so it goes on
# top of any earlier version. auto_vacuum is not here: it only takes effect on a new file
# (connection.py sets it before the first table) or through a VACUUM (`ledger vacuum`).
HORIZON_SCHEMA = [
    # prune walks runs oldest first and resumes where the last batch stopped
    "CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at, run_id)",
    # `ledger export --since` reads a month of sends, not years
    "CREATE INDEX IF NOT EXISTS sends_by_time ON sends (intended_at)",
    f"CREATE INDEX IF NOT EXISTS sends_going ON sends (intended_at) WHERE {SENDS_GOING}",
    """CREATE TABLE IF NOT EXISTS pruned (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    before REAL NOT NULL,
    at REAL NOT NULL,
    runs INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    sends INTEGER NOT NULL,
    slots INTEGER NOT NULL
)""",
]


@dataclass(frozen=True)
class PruneHorizon:
    before: float  # runs and slots older than this may have been removed
    at: float  # when the last prune ran
    runs: int  # removed so far, in total
    steps: int
    sends: int
    slots: int

    def describe(self) -> str:
        return (
            f"runs started before {_iso(self.before)} were pruned (last prune at {_iso(self.at)})"
        )


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def read_horizon(db: sqlite3.Connection) -> PruneHorizon | None:
    """The horizon, or None when nothing was ever pruned (or the table is not there yet:
    a ledger opened read-only before version 4)."""
    try:
        row = db.execute(
            "SELECT before, at, runs, steps, sends, slots FROM pruned WHERE id = 1"
        ).fetchone()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return None
        raise
    return None if row is None else PruneHorizon(*row)


def advance_horizon(
    db: sqlite3.Connection, before: float, at: float, runs: int, steps: int, sends: int, slots: int
) -> None:
    """Move the horizon to ``before`` (never back) and add what was removed; the caller
    holds the write transaction."""
    db.execute(
        "INSERT INTO pruned (id, before, at, runs, steps, sends, slots) "
        "VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "before = max(before, excluded.before), at = excluded.at, "
        "runs = runs + excluded.runs, steps = steps + excluded.steps, "
        "sends = sends + excluded.sends, slots = slots + excluded.slots",
        (before, at, runs, steps, sends, slots),
    )


def slot_problem(horizon: PruneHorizon | None, slot: float) -> str | None:
    """Why a run for ``slot`` that has no record must not start, or None when it may."""
    if horizon is None or slot >= horizon.before:
        return None
    return (
        f"the slot {_iso(slot)} is older than the ledger's prune horizon ({horizon.describe()}): "
        "whatever it recorded may have been removed, so the runner cannot tell whether it "
        "already ran and sent. It is not run again; run without --scheduled-for for a new run"
    )
