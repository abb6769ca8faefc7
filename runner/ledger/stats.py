"""``ledger stats``: how big the ledger is, how far back it reaches, what a prune frees."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from runner.ledger.horizon import PruneHorizon, read_horizon
from runner.ledger.retention import Pruner, PruneReport, file_bytes

__all__ = ["LedgerStats", "ledger_stats"]

_TABLES = ("runs", "steps", "sends", "slots")


@dataclass(frozen=True)
class LedgerStats:
    rows: dict[str, int]
    file_bytes: int  # on disk, write-ahead log included
    used_bytes: int  # pages holding data
    free_bytes: int  # free pages inside the file (reused by new rows)
    auto_vacuum: bool
    oldest_run: float | None
    newest_run: float | None
    horizon: PruneHorizon | None
    prune: PruneReport  # a dry run at the asked horizon

    @property
    def prune_frees_bytes(self) -> int:
        """About what the prune would hand back: its share of the used pages, by rows."""
        total = sum(self.rows.values())
        gone = sum(self.prune.removed[table] for table in _TABLES)
        return 0 if not total else round(self.used_bytes * gone / total)


def ledger_stats(db: sqlite3.Connection, path: Path, before: float, now: float) -> LedgerStats:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    rows = {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] if table in tables else 0
        for table in _TABLES
    }
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    oldest, newest = db.execute("SELECT min(started_at), max(started_at) FROM runs").fetchone()
    return LedgerStats(
        rows=rows,
        file_bytes=file_bytes(path),
        used_bytes=(pages - free) * page_size,
        free_bytes=free * page_size,
        auto_vacuum=db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2,
        oldest_run=oldest,
        newest_run=newest,
        horizon=read_horizon(db),
        prune=Pruner(db, before, now=now, dry_run=True).run(),
    )
