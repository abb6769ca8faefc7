"""Serve's automatic retention (``--retain``): the ledger pruned while serve runs.

Every ``interval`` a pass removes what is older than the horizon, one batch at a time on
a worker thread of its own (SQLite connections stay on the thread that opened them), so
the event loop never waits on it, and between batches it yields: a live run's write waits
for at most one batch. What a pass never removes is :mod:`runner.ledger.retention`'s rule.

At start-up, a missed slot older than the prune horizon is recorded as skipped, not run:
its record may have been pruned (see :mod:`runner.ledger.horizon`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from runner.ledger import LedgerError
from runner.ledger.connection import connect, failure
from runner.ledger.horizon import PruneHorizon
from runner.ledger.retention import DEFAULT_BATCH, Pruner, PruneReport
from runner.serve.recovery import Recovery

__all__ = ["RETENTION_INTERVAL", "keep_pruning", "prune_pass", "pruned_slots"]

log = logging.getLogger("runner.serve")

RETENTION_INTERVAL = 600.0  # seconds between passes: at 800 runs a minute, 8,000 runs each
_PAUSE = 0.01  # between batches: the lock is free for runs waiting on it


async def keep_pruning(
    path: Path,
    retain: float,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    interval: float = RETENTION_INTERVAL,
    batch: int = DEFAULT_BATCH,
) -> None:
    """Prune now and every ``interval`` until cancelled; a pass that fails is said, and the
    next one tries again (a full disk, a lock held too long: retention waits, runs go on)."""
    while True:
        try:
            report = await prune_pass(path, retain, clock=clock, sleep=sleep, batch=batch)
        except LedgerError as error:
            log.error("retention: %s; tried again in %.0fs", error, interval)
        else:
            if report.removed.total():
                log.info(
                    "retention: %s",
                    "; ".join(report.lines()),
                    extra={"fields": _fields(report)},
                )
        await sleep(interval)


async def prune_pass(
    path: Path,
    retain: float,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
    batch: int = DEFAULT_BATCH,
) -> PruneReport:
    """One pass over the ledger at ``path``: every batch on one worker thread."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="retention") as worker:
        db = await loop.run_in_executor(worker, connect, path)
        try:
            now = clock()
            pruner = await loop.run_in_executor(
                worker, functools.partial(Pruner, db, now - retain, now=now, batch=batch)
            )
            while await loop.run_in_executor(worker, pruner.step):
                await sleep(_PAUSE)
            await loop.run_in_executor(worker, _checkpoint, db)
        except sqlite3.Error as error:
            raise failure(error, path, "pruning it (retention)") from None
        finally:
            await loop.run_in_executor(worker, db.close)
    return pruner.report


def _checkpoint(db: sqlite3.Connection) -> None:
    # PASSIVE: never waits for readers; the file shrinks once no reader holds old pages
    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _fields(report: PruneReport) -> dict[str, object]:
    return {
        "event": "retention",
        **{f"removed_{name}": count for name, count in report.removed.items()},
        **{f"kept_{reason}": count for reason, count in report.kept.items()},
        "longest_lock_ms": round(report.longest_lock * 1000, 1),
        "pages_returned": report.pages_returned,
    }


def pruned_slots(recovery: Recovery, horizon: PruneHorizon | None) -> list[datetime]:
    """Take the missed slots older than ``horizon`` out of ``recovery`` (they are to be
    recorded as skipped); slots being continued keep their records and stay."""
    if horizon is None:
        return []
    old = [slot for slot in recovery.due if slot.timestamp() < horizon.before]
    recovery.due = [slot for slot in recovery.due if slot not in old]
    if recovery.catch_up is not None and recovery.catch_up.timestamp() < horizon.before:
        old.append(recovery.catch_up)
        recovery.catch_up = None
    return old
