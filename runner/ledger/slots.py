"""What serve decided for each scheduled slot: started, skipped (and why), how it ended.

Kept beside the runs table in the same SQLite file: a skipped slot has no run, and the
missed-run policy is decided from here at start-up, not from the scheduler's memory.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runner.ledger.connection import failure
from runner.ledger.records import LedgerError

__all__ = ["SlotLog", "SlotRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slots (
    playbook TEXT NOT NULL,
    slot REAL NOT NULL,
    run_id TEXT,
    outcome TEXT NOT NULL,
    reason TEXT,
    lateness REAL,
    recorded_at REAL NOT NULL,
    finished_at REAL,
    PRIMARY KEY (playbook, slot)
);
CREATE INDEX IF NOT EXISTS slots_by_time ON slots (slot, playbook);
"""

# outcomes after which a slot needs nothing more (a restart leaves it alone)
SETTLED = frozenset({"ok", "failed", "skipped", "invalid"})


@dataclass(frozen=True)
class SlotRecord:
    playbook: str
    slot: float  # the nominal time, epoch seconds (UTC)
    run_id: str | None
    outcome: str  # running, ok, failed, unknown, skipped, drained, invalid
    reason: str | None
    lateness: float | None
    recorded_at: float
    finished_at: float | None

    @property
    def settled(self) -> bool:
        return self.outcome in SETTLED


class SlotLog:
    """The ``slots`` table of a ledger file (its own connection; WAL lets it share)."""

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._path = Path(path)
        try:
            self._db = sqlite3.connect(Path(path), isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # a slot record survives a crash of the process (WAL); no fsync per record: it
            # is bookkeeping, the send intents keep their own durable writes
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as error:
            raise LedgerError(f"cannot open the ledger {path}: {error}") from None
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _using(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A read or write; an SQLite failure (disk full, file made read-only, damage)
        becomes the ledger's :class:`LedgerError`, which says what happened and what to do."""
        try:
            yield self._db
        except sqlite3.Error as error:
            raise failure(error, self._path, doing) from None

    def started(self, playbook: str, slot: float, run_id: str, lateness: float) -> None:
        self.started_many([(playbook, slot, run_id, lateness)])

    def started_many(self, starts: Iterable[tuple[str, float, str, float]]) -> None:
        """Record runs as started, ``(playbook, slot, run_id, lateness)`` each, in one
        transaction (serve admits all the slots of one scheduler tick together)."""
        now = self._clock()
        with self._using("recording slots as started"), self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO slots (playbook, slot, run_id, outcome, lateness, recorded_at) "
                "VALUES (?, ?, ?, 'running', ?, ?) ON CONFLICT (playbook, slot) DO UPDATE SET "
                "run_id = excluded.run_id, outcome = excluded.outcome, reason = NULL, "
                "lateness = excluded.lateness, finished_at = NULL",
                [(name, slot, run_id, lateness, now) for name, slot, run_id, lateness in starts],
            )

    def skipped(self, playbook: str, slots: Iterable[float], reason: str) -> None:
        """Record slots that will not run (one transaction for a whole batch)."""
        now = self._clock()
        with self._using("recording skipped slots"), self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO slots (playbook, slot, outcome, reason, recorded_at, finished_at) "
                "VALUES (?, ?, 'skipped', ?, ?, ?) ON CONFLICT (playbook, slot) DO NOTHING",
                [(playbook, slot, reason, now, now) for slot in slots],
            )

    def finished(
        self,
        playbook: str,
        slot: float,
        outcome: str,
        reason: str | None,
        lateness: float | None = None,
    ) -> None:
        """How the slot's run ended; ``lateness`` replaces the one noted at its start
        (a run that then waited for the request budget started later still)."""
        with self._using("recording how a slot ended"):
            self._db.execute(
                "UPDATE slots SET outcome = ?, reason = ?, finished_at = ?, "
                "lateness = coalesce(?, lateness) WHERE playbook = ? AND slot = ?",
                (outcome, reason, self._clock(), lateness, playbook, slot),
            )

    def writable(self) -> None:
        """Raises ``sqlite3.Error`` when the ledger cannot take a write now: a lock alone
        is granted on a read-only file too (an immutable file, a read-only mount), so a
        row is written and rolled back."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "INSERT INTO slots (playbook, slot, outcome, recorded_at) "
                "VALUES ('', -1, 'probe', 0) ON CONFLICT (playbook, slot) DO NOTHING"
            )
        finally:
            self._db.execute("ROLLBACK")

    def get(self, playbook: str, slot: float) -> SlotRecord | None:
        with self._using("reading a slot"):
            row = self._db.execute(
                "SELECT * FROM slots WHERE playbook = ? AND slot = ?", (playbook, slot)
            ).fetchone()
        return None if row is None else SlotRecord(**dict(row))

    def latest(self, playbook: str) -> SlotRecord | None:
        with self._using("reading the latest slot"):
            row = self._db.execute(
                "SELECT * FROM slots WHERE playbook = ? ORDER BY slot DESC LIMIT 1", (playbook,)
            ).fetchone()
        return None if row is None else SlotRecord(**dict(row))

    def history(self, playbook: str, limit: int = 20) -> list[SlotRecord]:
        rows = self._db.execute(
            "SELECT * FROM slots WHERE playbook = ? ORDER BY slot DESC LIMIT ?", (playbook, limit)
        )
        return [SlotRecord(**dict(row)) for row in rows]

    def playbooks(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT playbook FROM slots ORDER BY playbook")
        return [row["playbook"] for row in rows]
