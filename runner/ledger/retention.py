"""Retention: remove old runs, their steps, sends and slot records, in small batches.

What is never removed, whatever its age:

- a run with a send that is not settled: ``intended`` (it may be in flight), ``unknown``
  (a person has to look), or accepted with a transaction the daemon may still change
  (PENDING, QUEUED, awaiting approval, ...): its record is what stops it being sent twice;
- a run with a send inside the daily-cap window (24 h): ``max_per_day`` counts it;
- the newest run of each playbook: ``--resume`` continues it, serve's start-up reads it;
- a run still marked ``running`` (a crash left it; ``--resume`` or a restart continues it);
- the newest slot record of each playbook (serve's missed-slot recovery starts from it),
  and every slot record whose run is kept.

Each batch is one short write transaction over at most ``batch`` runs (or slots), so a
live run waits for the lock at most that long; with ``auto_vacuum=INCREMENTAL`` the freed
pages are handed back after each batch, in slices, so the file shrinks. The horizon is
advanced *before* the first row goes: a prune cut short still refuses the old slots.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from runner.client.models import TransactionStatus
from runner.ledger.horizon import advance_horizon
from runner.timestamps import iso_utc

__all__ = [
    "DAILY_CAP_WINDOW",
    "DEFAULT_RETENTION",
    "KEPT_REASONS",
    "PruneReport",
    "Pruner",
    "file_bytes",
]

T = TypeVar("T")
_Remover = Callable[[list[sqlite3.Row]], None]

# engine/limits.py counts max_per_day over the last 24 h of intents
DAILY_CAP_WINDOW = 24 * 60 * 60.0
DEFAULT_BATCH = 500
# serve's --retain default: a month of history (for the monthly accounts and for `history`);
# at serve's ceiling of 800 runs a minute that is about 24 GB, at a run a minute 30 MB
DEFAULT_RETENTION = 30 * 24 * 60 * 60.0
VACUUM_SLICE_PAGES = 256  # 1 MB a write transaction: measured 13 ms median (2,048: 117 ms)

_SETTLED_TX = ", ".join(f"'{status.value}'" for status in TransactionStatus if status.terminal)

KEPT_REASONS = {
    "unsettled": "a send not settled (intended, unknown, or a transaction still pending or "
    "awaiting approval)",
    "cap_window": "a send inside the 24 h daily-cap window",
    "newest": "the newest run of its playbook (--resume and serve's start-up read it)",
    "unfinished": "a run still marked running (--resume continues it)",
    "latest_slot": "the newest slot of its playbook (serve's missed-slot recovery)",
    "run_kept": "its run is kept",
}

# Why run ``r`` must stay (a KEPT_REASONS key), or NULL; each test goes through an index.
_KEPT_RUN = f"""CASE
    WHEN EXISTS (SELECT 1 FROM sends s WHERE s.run_id = r.run_id AND (
        s.state IN ('intended', 'unknown') OR (s.state = 'accepted'
        AND (s.tx_status IS NULL OR s.tx_status NOT IN ({_SETTLED_TX}))))) THEN 'unsettled'
    WHEN EXISTS (SELECT 1 FROM sends s WHERE s.run_id = r.run_id
        AND s.intended_at >= :cap_since) THEN 'cap_window'
    WHEN r.started_at >= (SELECT max(n.started_at) FROM runs n WHERE n.playbook = r.playbook)
        THEN 'newest'
    WHEN r.status = 'running' THEN 'unfinished'
END"""

_RUN_BATCH = f"""SELECT r.run_id, r.started_at, {_KEPT_RUN} AS kept FROM runs r
WHERE r.started_at < :before AND (r.started_at, r.run_id) > (:after, :after_id)
ORDER BY r.started_at, r.run_id LIMIT :batch"""

_SLOT_BATCH = f"""SELECT s.playbook, s.slot, CASE
    WHEN s.slot >= (SELECT max(l.slot) FROM slots l WHERE l.playbook = s.playbook)
        THEN 'latest_slot'
    WHEN r.run_id IS NOT NULL AND (r.started_at >= :before OR {_KEPT_RUN} IS NOT NULL)
        THEN 'run_kept'
END AS kept
FROM slots s LEFT JOIN runs r ON r.run_id = s.run_id
WHERE s.slot < :before AND (s.slot, s.playbook) > (:after, :after_id)
ORDER BY s.slot, s.playbook LIMIT :batch"""


@dataclass
class PruneReport:
    before: float
    dry_run: bool
    removed: Counter[str] = field(default_factory=Counter)  # runs, steps, sends, slots
    kept: Counter[str] = field(default_factory=Counter)  # KEPT_REASONS key -> rows
    batches: int = 0
    longest_lock: float = 0.0  # seconds, the longest single write transaction
    pages_returned: int = 0
    auto_vacuum: bool = True  # False: freed pages are reused but the file never shrinks

    def lines(self) -> list[str]:
        """What was removed and what was kept, and why, for a person."""
        verb = "would remove" if self.dry_run else "removed"
        removed = ", ".join(f"{self.removed[name]} {name}" for name in _TABLES)
        lines = [f"{verb}: {removed} (older than {iso_utc(self.before)})"]
        if self.kept:
            lines.append("kept although older:")
            lines.extend(
                f"  {count} {'slot' if reason in _SLOT_REASONS else 'run'}(s): "
                f"{KEPT_REASONS[reason]}"
                for reason, count in sorted(self.kept.items())
            )
        if not self.dry_run:
            lines.append(
                f"{self.batches} batch(es), the longest held the write lock "
                f"{self.longest_lock * 1000:.0f} ms; {self.pages_returned} free page(s) "
                "returned to the file system"
            )
        if not self.auto_vacuum:
            lines.append(
                "this ledger predates incremental vacuum: freed space is reused by new runs, "
                "but the file does not shrink until `waiaas-run ledger vacuum` is run once"
            )
        return lines


_TABLES = ("runs", "steps", "sends", "slots")
_SLOT_REASONS = {"latest_slot", "run_kept"}


def file_bytes(path: Path) -> int:
    """The ledger's size on disk, its write-ahead log included."""
    total = 0
    for part in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(OSError):  # no log right after a checkpoint
            total += part.stat().st_size
    return total


class Pruner:
    """One prune of ``db`` up to ``before``, a batch per :meth:`step` (serve awaits each
    in a thread and yields between them; the CLI just loops)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        before: float,
        *,
        now: float,
        batch: int = DEFAULT_BATCH,
        dry_run: bool = False,
    ) -> None:
        if batch < 1:
            raise ValueError("a prune batch holds at least one run")
        self._db = db
        self._now = now
        self._batch = batch
        self._phase = "runs"
        self._after: tuple[float, str] = (float("-inf"), "")
        self._has_slots = _has_table(db, "slots")
        self._cursor: sqlite3.Cursor | None = None
        if self._has_slots and not dry_run:  # a ledger serve has not opened since version 4
            db.execute("CREATE INDEX IF NOT EXISTS slots_by_time ON slots (slot, playbook)")
        self.report = PruneReport(before, dry_run)
        self.report.auto_vacuum = db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        self._params = {"before": before, "cap_since": now - DAILY_CAP_WINDOW}

    def run(self) -> PruneReport:
        while self.step():
            pass
        return self.report

    def step(self) -> bool:
        """One batch; False once there is nothing left to look at."""
        if self._phase == "runs":
            if self.report.batches == 0 and not self.report.dry_run:
                self._locked(lambda: self._advance(0, 0, 0, 0))  # the horizon first
            if not self._batch_of("runs", _RUN_BATCH, self._remove_runs):
                self._phase, self._after = "slots", (float("-inf"), "")
            return True
        if self._phase == "slots":
            if not self._has_slots or not self._batch_of("slots", _SLOT_BATCH, self._remove_slots):
                self._phase = "vacuum"
            return True
        if self._phase == "vacuum":
            if self.report.dry_run or not self._vacuum_slice():
                self._phase = "done"
            return True
        return False

    def _rows(self, query: str) -> list[sqlite3.Row]:
        """The next batch. A dry run reads one query's rows a batch at a time (it writes
        nothing, so one read is fine, and it needs no index the file may still lack); a
        prune asks again after the last row it saw, so each batch is its own transaction."""
        after, after_id = self._after
        params = {**self._params, "after": after, "after_id": after_id, "batch": self._batch}
        if not self.report.dry_run:
            return self._db.execute(query, params).fetchall()
        if self._cursor is None:
            self._cursor = self._db.execute(query, {**params, "batch": -1})
        rows = self._cursor.fetchmany(self._batch)
        if not rows:
            self._cursor = None
        return rows

    def _batch_of(self, what: str, query: str, remove: _Remover) -> bool:
        def work() -> bool:
            rows = self._rows(query)
            if not rows:
                return False
            # (started_at, run_id) of a run, (slot, playbook) of a slot: where the next
            # batch goes on (kept rows are not read again)
            self._after = (rows[-1][1], rows[-1][0])
            gone = []
            for row in rows:
                if row[-1] is None:
                    gone.append(row)
                else:
                    self.report.kept[row[-1]] += 1
            if gone and not self.report.dry_run:
                remove(gone)
            elif gone:
                self._count_dry(what, gone)
            return True

        if self.report.dry_run:
            return work()
        return self._locked(work)

    def _count_dry(self, what: str, gone: list[sqlite3.Row]) -> None:
        self.report.removed[what] += len(gone)
        if what == "runs":
            ids = [row[0] for row in gone]
            for table in ("steps", "sends"):
                self.report.removed[table] += sum(
                    self._db.execute(
                        f"SELECT count(*) FROM {table} WHERE run_id = ?", (run_id,)
                    ).fetchone()[0]
                    for run_id in ids
                )

    def _remove_runs(self, gone: list[sqlite3.Row]) -> None:
        ids = [(row[0],) for row in gone]
        counts = {}
        for table in ("steps", "sends", "runs"):
            counts[table] = self._db.executemany(
                f"DELETE FROM {table} WHERE run_id = ?", ids
            ).rowcount
        self._advance(counts["runs"], counts["steps"], counts["sends"], 0)

    def _remove_slots(self, gone: list[sqlite3.Row]) -> None:
        removed = self._db.executemany(
            "DELETE FROM slots WHERE playbook = ? AND slot = ?",
            [(row[0], row[1]) for row in gone],
        ).rowcount
        self._advance(0, 0, 0, removed)

    def _advance(self, runs: int, steps: int, sends: int, slots: int) -> None:
        advance_horizon(self._db, self._params["before"], self._now, runs, steps, sends, slots)
        self.report.removed.update({"runs": runs, "steps": steps, "sends": sends, "slots": slots})

    def _vacuum_slice(self) -> bool:
        if not self.report.auto_vacuum:
            return False
        free: int = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        if not free:
            return False
        started = time.perf_counter()
        # its own write transaction; executescript steps it to the end (execute() would
        # step once: one page)
        self._db.executescript(f"PRAGMA incremental_vacuum({min(free, VACUUM_SLICE_PAGES)});")
        self._note_lock(time.perf_counter() - started)
        left: int = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        self.report.pages_returned += free - left
        return left < free

    def _locked(self, work: Callable[[], T]) -> T:
        started = time.perf_counter()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = work()
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._note_lock(time.perf_counter() - started)
        return result

    def _note_lock(self, seconds: float) -> None:
        self.report.batches += 1
        self.report.longest_lock = max(self.report.longest_lock, seconds)


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return row.fetchone() is not None
