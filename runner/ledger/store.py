"""The run ledger: runs, step results and send intents in one SQLite file (WAL).

It is what makes sends exactly-once. A send intent is committed *before* its request
leaves and updated right after the answer, so whatever instant a process dies at, the
next run knows whether a key may be posted (no intent, or provably not sent), must be
waited on (a transaction id), or needs a person (``unknown``).

Amounts are stored as decimal text: wei amounts overflow SQLite's 64-bit integers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runner.client import TransferRequest
from runner.ledger.records import (
    CapExceeded,
    DailyCap,
    LedgerError,
    RunRecord,
    SendIntent,
    SendState,
    StepRecord,
    intent_from_row,
    spent,
)

__all__ = ["Ledger", "default_ledger_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    playbook TEXT NOT NULL,
    scheduled_for REAL,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    exit_code INTEGER
);
CREATE INDEX IF NOT EXISTS runs_by_playbook ON runs (playbook, started_at);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL REFERENCES runs (run_id),
    step_id TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    PRIMARY KEY (run_id, step_id)
);
CREATE TABLE IF NOT EXISTS sends (
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
);
CREATE INDEX IF NOT EXISTS sends_by_symbol ON sends (symbol, intended_at);
"""


def default_ledger_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$WAIAAS_RUNNER_STATE``, else the user's data directory (XDG on Linux), read from
    ``environ`` (default: this process's environment)."""
    environ = os.environ if environ is None else environ
    if explicit := environ.get("WAIAAS_RUNNER_STATE"):
        return Path(explicit)
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "waiaas-runner" / "ledger.sqlite3"


class Ledger:
    """One SQLite file; every write is its own committed transaction."""

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
        except (OSError, sqlite3.Error) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise LedgerError(f"cannot open the ledger {self.path}: {reason}") from None
        self._db.row_factory = sqlite3.Row
        # Step records survive a crash of this process (WAL); send intents also survive a
        # power cut: their writes switch to FULL (an fsync each), see _write(durable=True).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        if durable:
            self._db.execute("PRAGMA synchronous=FULL")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        finally:
            if durable:
                self._db.execute("PRAGMA synchronous=NORMAL")

    # -- runs and steps ------------------------------------------------------------------

    def begin_run(self, playbook: str, run_id: str, scheduled_for: float | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (run_id, playbook, scheduled_for, started_at, status) "
                "VALUES (?, ?, ?, ?, 'running') "
                "ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL",
                (run_id, playbook, scheduled_for, self._clock()),
            )

    def finish_run(self, run_id: str, status: str, exit_code: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, exit_code = ? WHERE run_id = ?",
                (self._clock(), status, exit_code, run_id),
            )

    def run(self, run_id: str) -> RunRecord | None:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else RunRecord(**dict(row))

    def last_run(self, playbook: str) -> RunRecord | None:
        row = self._db.execute(
            "SELECT * FROM runs WHERE playbook = ? ORDER BY started_at DESC LIMIT 1",
            (playbook,),
        ).fetchone()
        return None if row is None else RunRecord(**dict(row))

    def last_unfinished_run(self, playbook: str) -> RunRecord | None:
        """The playbook's newest run, if it did not end ok (crashed, failed, exit 3)."""
        last = self.last_run(playbook)
        return last if last is not None and last.status != "ok" else None

    def runs(self, playbook: str | None = None, limit: int = 50) -> list[RunRecord]:
        query = "SELECT * FROM runs"
        args: tuple[Any, ...] = ()
        if playbook is not None:
            query += " WHERE playbook = ?"
            args = (playbook,)
        rows = self._db.execute(query + " ORDER BY started_at DESC LIMIT ?", (*args, limit))
        return [RunRecord(**dict(row)) for row in rows]

    def save_steps(self, records: list[StepRecord], run_id: str) -> None:
        """Several step results in one transaction (a run buffers its read steps)."""
        with self._write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        record.step_id,
                        record.status,
                        None if record.output is None else json.dumps(record.output, default=str),
                        record.error,
                        record.started_at,
                        record.finished_at,
                    )
                    for record in records
                ],
            )

    def steps(self, run_id: str) -> dict[str, StepRecord]:
        rows = self._db.execute(
            "SELECT * FROM steps WHERE run_id = ? ORDER BY started_at", (run_id,)
        )
        return {
            row["step_id"]: StepRecord(
                step_id=row["step_id"],
                status=row["status"],
                output=None if row["output"] is None else json.loads(row["output"]),
                error=row["error"],
                started_at=row["started_at"],
                finished_at=row["finished_at"],
            )
            for row in rows
        }

    # -- send intents --------------------------------------------------------------------

    def intend_send(
        self,
        *,
        key: str,
        run_id: str,
        playbook: str,
        step_id: str,
        request: TransferRequest,
        daily_cap: DailyCap | None = None,
    ) -> SendIntent:
        """Commit the intent to post ``request``; if the key already has one, return that
        one untouched. Raises :class:`CapExceeded` (writing nothing) when ``daily_cap``
        would be passed."""
        now = self._clock()
        columns = {
            "key": key,
            "run_id": run_id,
            "playbook": playbook,
            "step_id": step_id,
            **_request_columns(request),
            "state": SendState.INTENDED,
            "intended_at": now,
            "updated_at": now,
        }
        with self._write_intent(key, request, daily_cap) as db:
            db.execute(
                f"INSERT INTO sends ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))}) ON CONFLICT (key) DO NOTHING",
                tuple(columns.values()),
            )
        intent = self.send(key)
        assert intent is not None
        return intent

    def send(self, key: str) -> SendIntent | None:
        row = self._db.execute("SELECT * FROM sends WHERE key = ?", (key,)).fetchone()
        return None if row is None else intent_from_row(row)

    def sends(self, *, playbook: str | None = None, run_id: str | None = None) -> list[SendIntent]:
        query, args = "SELECT * FROM sends WHERE 1 = 1", list[str]()
        if playbook is not None:
            query, args = query + " AND playbook = ?", [*args, playbook]
        if run_id is not None:
            query, args = query + " AND run_id = ?", [*args, run_id]
        return [
            intent_from_row(row) for row in self._db.execute(query + " ORDER BY intended_at", args)
        ]

    def reopen(
        self, key: str, request: TransferRequest, daily_cap: DailyCap | None = None
    ) -> SendIntent:
        """A ``not_sent`` intent is posted again: back to ``intended`` with what will be
        posted now, committed first (and checked against ``daily_cap`` like a new one)."""
        intent = self.send(key)
        if intent is None or intent.state is not SendState.NOT_SENT:
            raise ValueError(f"send {key} is not in state not_sent; it must not be posted again")
        now = self._clock()
        columns = {
            **_request_columns(request),
            "state": SendState.INTENDED,
            "intended_at": now,
            "updated_at": now,
        }
        with self._write_intent(key, request, daily_cap) as db:
            db.execute(
                f"UPDATE sends SET {', '.join(f'{name} = ?' for name in columns)} WHERE key = ?",
                (*columns.values(), key),
            )
        reopened = self.send(key)
        assert reopened is not None
        return reopened

    @contextmanager
    def _write_intent(
        self, key: str, request: TransferRequest, cap: DailyCap | None
    ) -> Iterator[sqlite3.Connection]:
        """A durable write of an intent, refused (nothing written) past the daily cap."""
        with self._write(durable=True) as db:
            if cap is not None:
                already = spent(db, _symbol_of(request), cap.since, key)
                if already + request.raw > cap.cap_raw:
                    raise CapExceeded(already)
            yield db

    def mark_accepted(self, key: str, tx_id: str, tx_status: str, note: str | None = None) -> None:
        self._update(key, state=SendState.ACCEPTED, tx_id=tx_id, tx_status=tx_status, note=note)

    def record_tx_status(self, tx_id: str, tx_status: str) -> None:
        """Note a transaction's latest status on the intent that owns it, if any."""
        with self._write() as db:
            db.execute(
                "UPDATE sends SET tx_status = ?, updated_at = ? WHERE tx_id = ?",
                (tx_status, self._clock(), tx_id),
            )

    def mark_unknown(self, key: str, note: str) -> None:
        self._update(key, state=SendState.UNKNOWN, note=note)

    def mark_not_sent(self, key: str, note: str) -> None:
        self._update(key, state=SendState.NOT_SENT, note=note)

    def claimed_tx_ids(self) -> set[str]:
        rows = self._db.execute("SELECT tx_id FROM sends WHERE tx_id IS NOT NULL")
        return {row["tx_id"] for row in rows}

    def spent_since(self, symbol: str, since: float, *, excluding: str | None = None) -> int:
        """Smallest units of ``symbol`` that may have left since ``since``, in-flight
        included; ``excluding`` leaves out one key (a send judging itself on --resume)."""
        return spent(self._db, symbol, since, excluding)

    def _update(self, key: str, **fields: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._write(durable=True) as db:
            changed = db.execute(
                f"UPDATE sends SET {assignments}, updated_at = ? WHERE key = ?",
                (*fields.values(), self._clock(), key),
            ).rowcount
        if changed != 1:
            raise KeyError(f"no send intent with key {key!r}")


def _symbol_of(request: TransferRequest) -> str:
    if request.symbol is None:
        raise ValueError("a recorded send needs its symbol (limits are counted per symbol)")
    return request.symbol


def _request_columns(request: TransferRequest) -> dict[str, Any]:
    """The columns of a send row that come from its request (and the request itself)."""
    return {
        "wallet_id": request.wallet_id,
        "network": request.network,
        "to_address": request.to,
        "amount_raw": str(request.raw),  # wei amounts overflow SQLite's integers
        "symbol": _symbol_of(request),
        "request": json.dumps(request.body(), sort_keys=True),
    }
