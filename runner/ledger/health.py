"""Is the ledger file sound? A cheap check on every open, a full one on request.

Every run opens the ledger, so the check on open must stay cheap however many years of
runs the file holds: it reads the schema and the newest part of every table and index
(root to the newest leaf, the last ``NEWEST_ROWS`` entries), which is where a run reads
and writes, with SQLite's cell-size checks on; its cost does not grow with the file.
Damage elsewhere is still caught the moment a run touches it (before any further send),
and always by ``waiaas-run ledger check``: SQLite's full ``integrity_check`` plus the
ledger's own invariants, which reads every page.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from runner.ledger.records import SendState

__all__ = [
    "NEWEST_ROWS",
    "LedgerReport",
    "NotALedger",
    "check_everything",
    "check_file",
    "check_newest",
    "refuse_a_foreign_database",
]

NEWEST_ROWS = 200

_COLUMNS = {
    "runs": {"run_id", "playbook", "scheduled_for", "started_at", "finished_at", "status"},
    "steps": {"run_id", "step_id", "status", "output", "error", "started_at", "finished_at"},
    "sends": {"key", "run_id", "playbook", "step_id", "request", "state", "tx_id", "amount_raw"},
}

# Every table a ledger of any version holds (serve's own ones included).
_LEDGER_TABLES = {"runs", "steps", "sends", "pruned", "slots", "audit_findings"}

# Each b-tree of the schema, read from its newest end: (what, query).
_NEWEST = [
    ("runs", "SELECT * FROM runs ORDER BY rowid DESC LIMIT ?"),
    ("runs by id", "SELECT run_id FROM runs ORDER BY run_id DESC LIMIT ?"),
    (
        "runs by playbook",
        "SELECT playbook, started_at FROM runs ORDER BY playbook DESC, started_at DESC LIMIT ?",
    ),
    ("steps", "SELECT * FROM steps ORDER BY rowid DESC LIMIT ?"),
    (
        "steps by run",
        "SELECT run_id, step_id FROM steps ORDER BY run_id DESC, step_id DESC LIMIT ?",
    ),
    ("sends", "SELECT * FROM sends ORDER BY rowid DESC LIMIT ?"),
    ("sends by key", "SELECT key FROM sends ORDER BY key DESC LIMIT ?"),
    (
        "sends by transaction",
        "SELECT tx_id FROM sends WHERE tx_id IS NOT NULL ORDER BY tx_id DESC LIMIT ?",
    ),
    (
        "sends by state",
        "SELECT state, playbook FROM sends ORDER BY state DESC, playbook DESC LIMIT ?",
    ),
    ("sends by run", "SELECT run_id FROM sends ORDER BY run_id DESC LIMIT ?"),
    (
        "sends by symbol",
        "SELECT symbol, intended_at FROM sends ORDER BY symbol DESC, intended_at DESC LIMIT ?",
    ),
    (
        "sends by playbook",
        "SELECT playbook, symbol, intended_at FROM sends "
        "ORDER BY playbook DESC, symbol DESC, intended_at DESC LIMIT ?",
    ),
]


# The ledger's schema version (SQLite's user_version); a newer runner raises it.
# 3: the index sends_by_playbook (a version-2 file gains it when it is opened); 4: retention
# (runs_by_start, sends_by_time, the pruned table); each applies on top of the one before.
SCHEMA_VERSION = 4


class SchemaMismatch(sqlite3.DatabaseError):
    """The file is an SQLite database, but not a ledger (or a damaged schema)."""


class NotALedger(SchemaMismatch):
    """The file is an SQLite database without any ledger in it (empty, or another
    program's): not damaged, just not a ledger."""


class SchemaTooNew(sqlite3.DatabaseError):
    """The ledger was written by a newer runner: this one must not read or write it."""


def refuse_a_foreign_database(db: sqlite3.Connection) -> set[str]:
    """Raise :class:`SchemaMismatch` for an SQLite file that holds tables but no ledger
    (another program's database given as ``--state``): opening it as a ledger would add
    the ledger's tables to it and switch it to WAL. A file without any table (new, or
    empty) may become a ledger; a ledger of any version has its ``runs`` table (serve's
    slot and audit records may be written into a new file first). Returns the tables it
    holds."""
    tables = {
        row[0]
        for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if tables and not tables & _LEDGER_TABLES:
        listed = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        raise NotALedger(f"it holds other tables ({listed}) and none of a ledger's")
    return tables


def check_newest(db: sqlite3.Connection, rows: int | None = None) -> None:
    """The check on open; raises :class:`sqlite3.DatabaseError` when it finds damage, and
    :class:`SchemaTooNew` for a ledger of a newer runner (what it recorded may mean more
    than this one knows: an unsettled send in a new state would look settled)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"its schema is version {version}, written by a newer waiaas-runner; this one "
            f"knows up to version {SCHEMA_VERSION}"
        )
    rows = rows or NEWEST_ROWS
    tables = refuse_a_foreign_database(db)
    for table, needed in _COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if not tables:
            raise NotALedger("it is empty: no table at all")
        if not have:
            raise SchemaMismatch(f"it has no {table} table")
        if not needed <= have:
            raise SchemaMismatch(f"table {table} lacks {', '.join(sorted(needed - have))}")
    for _, query in _NEWEST:
        # counted inside SQLite: every page on the way is read and checked, no row is
        # built in Python
        db.execute(f"SELECT count(*) FROM ({query})", (rows,)).fetchone()


@dataclass(frozen=True)
class LedgerReport:
    runs: int
    sends: int
    problems: list[str]
    too_new: bool = False  # written by a newer runner: not damaged, just not ours to judge
    not_a_ledger: bool = False  # empty, or another program's database: nothing to judge

    @property
    def ok(self) -> bool:
        return not self.problems


def check_file(path: Path) -> LedgerReport:
    """The full check of the ledger at ``path``, read-only, whatever state it is in."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return LedgerReport(0, 0, [f"cannot open it: {error}"])
    db.row_factory = sqlite3.Row
    try:
        return check_everything(db)
    except SchemaTooNew as error:
        return LedgerReport(0, 0, [str(error)], too_new=True)
    except NotALedger as error:
        return LedgerReport(0, 0, [str(error)], not_a_ledger=True)
    except sqlite3.Error as error:
        return LedgerReport(0, 0, [str(error)])
    finally:
        db.close()


def check_everything(db: sqlite3.Connection, limit: int = 50) -> LedgerReport:
    """SQLite's full integrity check, then the ledger's own invariants on every row."""
    problems = [
        str(row[0]) for row in db.execute(f"PRAGMA integrity_check({limit})") if row[0] != "ok"
    ]
    if problems:  # the rows cannot be trusted to read back
        return LedgerReport(0, 0, problems)
    try:
        check_newest(db, rows=1)
    except (SchemaTooNew, NotALedger):
        raise
    except sqlite3.DatabaseError as error:
        return LedgerReport(0, 0, [str(error)])
    runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    sends = 0
    states = {state.value for state in SendState}
    for row in db.execute("SELECT key, state, amount_raw, request, tx_id FROM sends"):
        sends += 1
        key = row["key"]
        if row["state"] not in states:
            problems.append(f"send {key}: unknown state {row['state']!r}")
        if not str(row["amount_raw"]).isdigit():
            problems.append(f"send {key}: amount {row['amount_raw']!r} is not an integer")
        try:
            request = json.loads(row["request"])
        except ValueError:
            problems.append(f"send {key}: its request is not JSON")
            continue
        if not isinstance(request, dict) or str(request.get("amount")) != str(row["amount_raw"]):
            problems.append(f"send {key}: its request does not match its amount")
        if row["state"] == SendState.ACCEPTED and row["tx_id"] is None:
            problems.append(f"send {key}: accepted without a transaction id")
        if len(problems) >= limit:
            break
    return LedgerReport(runs, sends, problems)
