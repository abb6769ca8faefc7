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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runner.client import TransferRequest
from runner.ledger.base import guarded
from runner.ledger.records import (
    AWAITING_APPROVAL,
    CapExceeded,
    DailyCap,
    RunRecord,
    SendIntent,
    SendState,
    StepRecord,
    intent_from_row,
    spent,
)
from runner.ledger.send_reads import SendReads
from runner.secrets import mask_secrets, mask_values

__all__ = ["Ledger", "default_ledger_path"]


def default_ledger_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$WAIAAS_RUNNER_STATE``, else the user's data directory (XDG on Linux), read from
    ``environ`` (default: this process's environment)."""
    environ = os.environ if environ is None else environ
    if explicit := environ.get("WAIAAS_RUNNER_STATE"):
        return Path(explicit)
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "waiaas-runner" / "ledger.sqlite3"


class Ledger(SendReads):
    """One SQLite file; every write is its own committed transaction."""

    # -- runs and steps ------------------------------------------------------------------

    @guarded("recording the start of the run")
    def begin_run(self, playbook: str, run_id: str, scheduled_for: float | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (run_id, playbook, scheduled_for, started_at, status) "
                "VALUES (?, ?, ?, ?, 'running') "
                "ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL",
                (run_id, playbook, scheduled_for, self._clock()),
            )

    @guarded("recording the end of the run")
    def finish_run(self, run_id: str, status: str, exit_code: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, exit_code = ? WHERE run_id = ?",
                (self._clock(), status, exit_code, run_id),
            )

    @guarded("reading a run")
    def run(self, run_id: str) -> RunRecord | None:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else RunRecord(**dict(row))

    @guarded("reading the last run")
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

    @guarded("reading runs")
    def runs(self, playbook: str | None = None, limit: int = 50) -> list[RunRecord]:
        query = "SELECT * FROM runs"
        args: tuple[Any, ...] = ()
        if playbook is not None:
            query += " WHERE playbook = ?"
            args = (playbook,)
        rows = self._db.execute(query + " ORDER BY started_at DESC LIMIT ?", (*args, limit))
        return [RunRecord(**dict(row)) for row in rows]

    @guarded("recording step results")
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
                        _masked_json(record.output),
                        None if record.error is None else mask_secrets(record.error),
                        record.started_at,
                        record.finished_at,
                    )
                    for record in records
                ],
            )

    @guarded("reading step results")
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

    @guarded("recording a send intent")
    def intend_send(
        self,
        *,
        key: str,
        run_id: str,
        playbook: str,
        step_id: str,
        request: TransferRequest,
        daily_cap: DailyCap | Sequence[DailyCap] | None = None,
    ) -> SendIntent:
        """Commit the intent to post ``request``; if the key already has one, return that
        one untouched. Raises :class:`CapExceeded` (writing nothing) when a ``daily_cap``
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

    @guarded("reading a send intent")
    def send(self, key: str) -> SendIntent | None:
        row = self._db.execute("SELECT * FROM sends WHERE key = ?", (key,)).fetchone()
        return None if row is None else intent_from_row(row)

    @guarded("recording a new attempt of a send")
    def reopen(
        self,
        key: str,
        request: TransferRequest,
        daily_cap: DailyCap | Sequence[DailyCap] | None = None,
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
        self, key: str, request: TransferRequest, caps: DailyCap | Sequence[DailyCap] | None
    ) -> Iterator[sqlite3.Connection]:
        """A durable write of an intent, refused (nothing written) past a daily cap (each
        counts the request's symbol on the request's network, in its own scope), or once
        damage or a failed write has been seen."""
        self._refuse_if_broken()
        caps = () if caps is None else (caps,) if isinstance(caps, DailyCap) else caps
        with self._write(durable=True) as db:
            for cap in caps:
                already = spent(
                    db,
                    _symbol_of(request),
                    cap.since,
                    key,
                    network=request.network,
                    playbook=cap.playbook,
                )
                if already + request.raw > cap.cap_raw:
                    raise CapExceeded(already, cap)
            yield db

    @guarded("recording an accepted send")
    def mark_accepted(self, key: str, tx_id: str, tx_status: str, note: str | None = None) -> None:
        self._update(key, state=SendState.ACCEPTED, tx_id=tx_id, tx_status=tx_status, note=note)

    @guarded("recording a transaction status")
    def record_tx_status(
        self, tx_id: str, tx_status: str, *, awaiting_approval: bool = False
    ) -> None:
        """Note a transaction's latest status on the intent that owns it, if any; whether
        it waits for the owner's approval goes in an empty note (and leaves it again)."""
        with self._write() as db:
            db.execute(
                "UPDATE sends SET tx_status = ?, updated_at = ?, note = CASE "
                "WHEN ? AND note IS NULL THEN ? WHEN NOT ? AND note = ? THEN NULL "
                "ELSE note END WHERE tx_id = ?",
                (tx_status, self._clock(), *(awaiting_approval, AWAITING_APPROVAL) * 2, tx_id),
            )

    @guarded("recording a send as unknown")
    def mark_unknown(self, key: str, note: str) -> None:
        self._update(key, state=SendState.UNKNOWN, note=note)

    @guarded("recording a send as not sent")
    def mark_not_sent(self, key: str, note: str) -> None:
        self._update(key, state=SendState.NOT_SENT, note=note)

    def _update(self, key: str, **fields: Any) -> None:
        if isinstance(fields.get("note"), str):  # notes quote errors: never a token
            fields["note"] = mask_secrets(fields["note"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._write(durable=True) as db:
            changed = db.execute(
                f"UPDATE sends SET {assignments}, updated_at = ? WHERE key = ?",
                (*fields.values(), self._clock(), key),
            ).rowcount
        if changed != 1:
            raise KeyError(f"no send intent with key {key!r}")


def _masked_json(value: dict[str, Any] | None) -> str | None:
    """A step's output as stored: JSON in which nothing token-shaped survives."""
    return None if value is None else json.dumps(mask_values(value), default=str)


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
