"""Opening the ledger file, creating its schema, and naming what went wrong with it.

Several processes may open a fresh ledger at the same instant (cron ticks, serve and a
one-shot run): switching it to WAL and creating the schema wait their turn like any
write, instead of failing with "database is locked". Every SQLite error is turned into
a :class:`LedgerError` that says what happened to the file and what to do about it.
"""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

from runner.lazy import lazy_module
from runner.ledger.health import (
    SCHEMA_VERSION,
    SchemaMismatch,
    SchemaTooNew,
    refuse_a_foreign_database,
)
from runner.ledger.horizon import HORIZON_SCHEMA
from runner.ledger.records import LedgerBusy, LedgerDamaged, LedgerError, LedgerWriteFailed

if TYPE_CHECKING:
    import tenacity
else:
    tenacity = lazy_module("tenacity")

__all__ = [
    "BUSY_TIMEOUT",
    "SCHEMA_VERSION",
    "connect",
    "failure",
    "journal_advice",
    "leftover_journal",
]

# How long a write waits for another process's write before giving up.
BUSY_TIMEOUT = 30.0

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    playbook TEXT NOT NULL,
    scheduled_for REAL,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    exit_code INTEGER
)""",
    "CREATE INDEX IF NOT EXISTS runs_by_playbook ON runs (playbook, started_at)",
    """CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs (run_id),
    step_id TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    PRIMARY KEY (run_id, step_id)
)""",
    """CREATE TABLE IF NOT EXISTS sends (
    key TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    playbook TEXT NOT NULL,
    step_id TEXT NOT NULL,
    wallet_id TEXT,
    network TEXT,
    to_address TEXT NOT NULL,
    amount_raw TEXT NOT NULL,
    symbol TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    tx_id TEXT UNIQUE,
    tx_status TEXT,
    note TEXT,
    intended_at REAL NOT NULL,
    updated_at REAL NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS sends_by_symbol ON sends (symbol, intended_at)",
    # version 2: every run looks for unsettled sends, history and --resume for a run's
    "CREATE INDEX IF NOT EXISTS sends_by_state ON sends (state, playbook)",
    "CREATE INDEX IF NOT EXISTS sends_by_run ON sends (run_id)",
    # version 3: a playbook's max_per_day sums only its own sends of one symbol
    "CREATE INDEX IF NOT EXISTS sends_by_playbook ON sends (playbook, symbol, intended_at)",
    # version 4: retention (the prune horizon, runs oldest first)
    *HORIZON_SCHEMA,
]


def _locked(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and _kind(error) == "SQLITE_BUSY"


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the ledger at ``path``, in WAL mode, with its schema.

    Raises :class:`LedgerError` (or a subclass) with a message a person can act on.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        pass  # not there yet: created below (or the open says why not)
    else:
        if not stat.S_ISREG(mode):
            # SQLite would "open" /dev/null or a FIFO, write its journal beside it (in /dev)
            # and fail later with a disk I/O error
            raise LedgerError(
                f"cannot open the ledger {path}: it is not a regular file (a device, FIFO "
                "or socket); give a file path with --state"
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LedgerError(
            f"cannot open the ledger {path}: its folder {path.parent} cannot be created "
            f"({error.strerror or error})"
        ) from None
    # The WAL switch of a brand-new file can report "locked" without waiting on the busy
    # handler while another process creates it: those attempts are repeated.
    try:
        return _open_retrying(path)
    except sqlite3.Error as error:
        raise failure(error, path, "opening it") from None
    except OSError as error:
        raise LedgerError(f"cannot open the ledger {path}: {error.strerror or error}") from None


def _open_retrying(path: Path) -> sqlite3.Connection:
    began = time.monotonic()
    try:
        return _open(path)
    except sqlite3.OperationalError as error:
        remaining = BUSY_TIMEOUT - (time.monotonic() - began)
        if not _locked(error) or remaining <= 0:
            raise
    # built only when needed (most opens succeed at once), and within the same
    # BUSY_TIMEOUT the first attempt already spent part of
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(_locked),
        stop=tenacity.stop_after_delay(remaining),
        wait=tenacity.wait_random_exponential(multiplier=0.005, max=0.25),
        reraise=True,
    )
    return retrying(_open, path)


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT)
    try:
        db.row_factory = sqlite3.Row
        # damage in a page is reported when the page is read, not turned into odd rows
        db.execute("PRAGMA cell_size_check=ON")
        refuse_a_foreign_database(db)  # before anything below writes to its header
        if db.execute("PRAGMA page_count").fetchone()[0] == 0:
            # pruned space goes back to the file system (`ledger prune`); it only takes on a
            # new file (an older ledger gets it from `ledger vacuum`), and set on an existing
            # one it would write to it
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("PRAGMA journal_mode=WAL")
        # Step records survive a crash of this process (WAL); send intents also survive
        # a power cut: their writes switch to FULL (an fsync each).
        db.execute("PRAGMA synchronous=NORMAL")
        if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            _create_schema(db)
    except BaseException:
        db.close()
        raise
    return db


def _create_schema(db: sqlite3.Connection) -> None:
    # One write transaction: a process that opens the file meanwhile waits for it.
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _kind(error: sqlite3.Error) -> str:
    # "SQLITE_IOERR_WRITE" -> "SQLITE_IOERR": the primary result code
    name: str = getattr(error, "sqlite_errorname", None) or ""
    return "_".join(name.split("_")[:2])


_RECOVER = (
    "Nothing more is sent with it. Keep a copy of the file, then recover what it holds: "
    "`sqlite3 {path} .recover | sqlite3 {path}.recovered`, check the copy with "
    "`waiaas-run ledger check --state {path}.recovered` and use it with --state (do not just "
    "delete the ledger: it is the memory of past sends that --resume and max_per_day rely on)"
)


def failure(error: sqlite3.Error, path: Path, doing: str) -> LedgerError:
    """The :class:`LedgerError` for an SQLite error met while ``doing`` something."""
    kind = _kind(error)
    reason = str(error)
    if isinstance(error, SchemaTooNew):
        return LedgerError(
            f"the ledger {path} cannot be used by this waiaas-runner ({reason}): run the newer "
            "version with it (nothing was read or written)"
        )
    if isinstance(error, SchemaMismatch):
        return LedgerError(f"{path} is an SQLite file but not a waiaas-runner ledger ({reason})")
    if kind in {"SQLITE_CORRUPT", "SQLITE_NOTADB"} or "malformed" in reason:
        return LedgerDamaged(
            f"the ledger {path} is damaged ({reason}; seen while {doing}). "
            + _RECOVER.format(path=path)
        )
    if kind == "SQLITE_BUSY":
        return LedgerBusy(
            f"the ledger {path} stayed locked by another process for {BUSY_TIMEOUT:g}s "
            f"while {doing}; nothing was changed. Try again once the other run is done"
        )
    if kind == "SQLITE_READONLY" and (journal := leftover_journal(path)) is not None:
        return LedgerError(journal_advice(path, journal))
    if kind in {"SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN"}:
        return LedgerWriteFailed(
            f"the ledger {path} could not be written while {doing} ({reason}): free disk "
            "space or fix the file's permissions; nothing more is sent until it can be written"
        )
    return LedgerError(f"the ledger {path} failed while {doing}: {reason}")


def leftover_journal(path: Path) -> Path | None:
    """A rollback journal beside the ledger: SQLite must roll it back before anyone reads,
    which a read-only open cannot do (it fails with "attempt to write a readonly database")."""
    journal = path.with_name(path.name + "-journal")
    try:
        return journal if journal.stat().st_size > 0 else None
    except OSError:
        return None


def journal_advice(path: Path, journal: Path) -> str:
    return (
        f"the ledger {path} has a journal file beside it, {journal} (an interrupted write, "
        "or a file put there by mistake), which a command that only reads cannot roll back; "
        "nothing was changed. If you put that file there, move it away; otherwise let a "
        f"command that writes open the ledger once (`waiaas-run history --state {path}`), "
        "then try again"
    )
