"""Sixteen processes opening a brand-new ledger at the same instant all get it.

Creating the file's schema is a write like any other: it waits its turn instead of
failing with "database is locked" (about 2 in 128 processes did, exiting 2 with advice
to choose another ledger).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from runner.ledger import Ledger, LedgerError, connection

PROCESSES = 16
ROUNDS = 4


def _open(path: Path, start: Barrier, report: Connection) -> None:
    start.wait()
    try:
        with Ledger(path) as ledger:
            ledger.begin_run("p", f"run-{multiprocessing.current_process().pid}")
        report.send("ok")
    except Exception as error:  # reported to the parent, which fails on it
        report.send(f"{type(error).__name__}: {error}")


def test_sixteen_processes_open_a_fresh_ledger_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_number in range(ROUNDS):
        path = tmp_path / f"round-{round_number}" / "ledger.sqlite3"
        start = context.Barrier(PROCESSES)
        receiving, sending = context.Pipe(duplex=False)
        children = [
            context.Process(target=_open, args=(path, start, sending)) for _ in range(PROCESSES)
        ]
        for child in children:
            child.start()
        outcomes = [receiving.recv() for _ in children]
        for child in children:
            child.join(timeout=60)
        failures += [outcome for outcome in outcomes if outcome != "ok"]
        with Ledger(path) as ledger:
            assert len(ledger.runs(limit=100)) == PROCESSES
    assert failures == []


def test_opening_waits_while_another_process_creates_the_file(tmp_path: Path) -> None:
    """The deterministic form of the race: the file's creator still holds its write lock
    in rollback-journal mode, where SQLite refuses a WAL switch at once (no busy wait)."""
    path = tmp_path / "ledger.sqlite3"
    creator = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    creator.execute("BEGIN IMMEDIATE")
    creator.execute(connection._SCHEMA[0])  # another runner creating the ledger: runs first
    releasing = threading.Timer(0.2, lambda: creator.execute("COMMIT"))
    releasing.start()
    started = time.monotonic()
    try:
        with Ledger(path) as ledger:
            ledger.begin_run("p", "run-1")
            assert ledger.run("run-1") is not None
    finally:
        releasing.join()
        creator.close()
    assert time.monotonic() - started >= 0.2  # it waited for its turn


def test_a_ledger_held_busy_gives_up_after_one_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first open's own wait counts: it is not followed by a second full wait."""
    monkeypatch.setattr(connection, "BUSY_TIMEOUT", 0.5)
    path = tmp_path / "ledger.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE held (x)")
    began = time.monotonic()
    try:
        with pytest.raises(LedgerError, match=r"locked|busy"):
            connection.connect(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert time.monotonic() - began < 0.9
