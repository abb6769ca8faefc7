"""The run ledger: runs, step results and send intents in one SQLite file (WAL).

It is what makes sends exactly-once. A send intent is committed *before* its request
leaves and updated right after the answer, so whatever instant a process dies at, the
next run knows whether a key may be posted (no intent, or provably not sent), must be
waited on (a transaction id), or needs a person (``unknown``).

Amounts are stored as decimal text: wei amounts overflow SQLite's 64-bit integers.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from runner.client import TransferRequest
from runner.ledger.connection import connect, failure
from runner.ledger.health import check_newest
from runner.ledger.horizon import SENDS_GOING, PruneHorizon, read_horizon
from runner.ledger.records import (
    AWAITING_APPROVAL,
    CapExceeded,
    DailyCap,
    LedgerBusy,
    LedgerError,
    RunRecord,
    SendIntent,
    SendState,
    StepRecord,
    intent_from_row,
    spent,
)
from runner.secrets import mask_secrets, mask_values

__all__ = ["Ledger", "default_ledger_path"]

P = ParamSpec("P")
R = TypeVar("R")


def _guarded(
    doing: str,
) -> Callable[[Callable[Concatenate[Ledger, P], R]], Callable[Concatenate[Ledger, P], R]]:
    """Turn SQLite's errors in a ledger method into a :class:`LedgerError` saying what was
    being done; after damage or a failed write the ledger refuses to record new sends."""

    def wrap(method: Callable[Concatenate[Ledger, P], R]) -> Callable[Concatenate[Ledger, P], R]:
        @functools.wraps(method)
        def guarded(self: Ledger, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.IntegrityError:
                raise  # a rule of the schema said no (a claimed id): the caller's to judge
            except sqlite3.Error as error:
                problem = failure(error, self.path, doing)
                if not isinstance(problem, LedgerBusy):
                    self.broken = problem
                raise problem from None

        return guarded

    return wrap


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
        """Open (or create) the ledger and check its newest part; raises
        :class:`LedgerError` (:class:`LedgerDamaged` for a damaged file)."""
        self.path = Path(path)
        self._clock = clock
        # The first damage or failed write seen: no send is recorded after it.
        self.broken: LedgerError | None = None
        self._db = connect(self.path)
        try:
            check_newest(self._db)
        except sqlite3.Error as error:
            self._db.close()
            raise failure(error, self.path, "checking it on open") from None

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
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        finally:
            if durable:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def _refuse_if_broken(self) -> None:
        if self.broken is not None:
            raise LedgerError(f"{self.broken} (no new send is recorded after that)")

    # -- runs and steps ------------------------------------------------------------------

    @_guarded("recording the start of the run")
    def begin_run(self, playbook: str, run_id: str, scheduled_for: float | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (run_id, playbook, scheduled_for, started_at, status) "
                "VALUES (?, ?, ?, ?, 'running') "
                "ON CONFLICT (run_id) DO UPDATE SET status = 'running', finished_at = NULL",
                (run_id, playbook, scheduled_for, self._clock()),
            )

    @_guarded("recording the end of the run")
    def finish_run(self, run_id: str, status: str, exit_code: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, exit_code = ? WHERE run_id = ?",
                (self._clock(), status, exit_code, run_id),
            )

    @_guarded("reading a run")
    def run(self, run_id: str) -> RunRecord | None:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else RunRecord(**dict(row))

    @_guarded("reading the last run")
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

    @_guarded("reading runs")
    def runs(self, playbook: str | None = None, limit: int = 50) -> list[RunRecord]:
        query = "SELECT * FROM runs"
        args: tuple[Any, ...] = ()
        if playbook is not None:
            query += " WHERE playbook = ?"
            args = (playbook,)
        rows = self._db.execute(query + " ORDER BY started_at DESC LIMIT ?", (*args, limit))
        return [RunRecord(**dict(row)) for row in rows]

    @_guarded("recording step results")
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

    @_guarded("reading step results")
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

    @_guarded("recording a send intent")
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

    @_guarded("reading a send intent")
    def send(self, key: str) -> SendIntent | None:
        row = self._db.execute("SELECT * FROM sends WHERE key = ?", (key,)).fetchone()
        return None if row is None else intent_from_row(row)

    @_guarded("reading send intents")
    def sends(
        self,
        *,
        playbook: str | None = None,
        run_id: str | None = None,
        state: SendState | None = None,
        since: float | None = None,
    ) -> list[SendIntent]:
        """Send intents, oldest first; by run and by state through an index (a run asks for
        the unsettled ones every time, so that must not read years of sends); ``since``:
        intended then or later (filtered by SQLite: an audit of a day reads that day)."""
        query, args = "SELECT * FROM sends WHERE 1 = 1", list[str | float]()
        if playbook is not None:
            query, args = query + " AND playbook = ?", [*args, playbook]
        if run_id is not None:
            query, args = query + " AND run_id = ?", [*args, run_id]
        if state is not None:
            query, args = query + " AND state = ?", [*args, state.value]
        if since is not None:
            query, args = query + " AND intended_at >= ?", [*args, since]
        return [
            intent_from_row(row) for row in self._db.execute(query + " ORDER BY intended_at", args)
        ]

    @_guarded("reading the sends still going")
    def sends_going(self) -> list[SendIntent]:
        """Intended sends, and accepted ones whose transaction was last seen in a status
        that is not final, oldest first (serve's status page, on every view)."""
        return self._going(
            f"SELECT * FROM sends {{index}} WHERE {SENDS_GOING} ORDER BY intended_at"
        )

    @_guarded("recording a new attempt of a send")
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

    @_guarded("recording an accepted send")
    def mark_accepted(self, key: str, tx_id: str, tx_status: str, note: str | None = None) -> None:
        self._update(key, state=SendState.ACCEPTED, tx_id=tx_id, tx_status=tx_status, note=note)

    @_guarded("recording a transaction status")
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

    @_guarded("recording a send as unknown")
    def mark_unknown(self, key: str, note: str) -> None:
        self._update(key, state=SendState.UNKNOWN, note=note)

    @_guarded("recording a send as not sent")
    def mark_not_sent(self, key: str, note: str) -> None:
        self._update(key, state=SendState.NOT_SENT, note=note)

    def claimed_tx_ids(self) -> Container[str]:
        """Transaction ids some intent owns, asked one id at a time through the tx_id index
        (reconciliation asks about one page of the daemon's list, never all of them)."""
        return _Claimed(self)

    @_guarded("reading a wallet's sends")
    def wallet_sends(self, wallet_id: str | None, *, since: float) -> list[SendIntent]:
        """The wallet's sends intended since ``since`` that may still be on their way
        (intended, unknown, accepted with a status that is not final), oldest first, by any
        process: the earlier sends a new one of this wallet must not overlap in the daemon.
        Read through the index of sends still going and the state index, not through every
        send of the window (at serve's ceiling, two days are 2.3 million sends)."""
        return self._going(
            f"SELECT * FROM sends {{index}} WHERE ({SENDS_GOING}) "
            "AND wallet_id IS ? AND intended_at >= ? "
            "UNION ALL SELECT * FROM sends WHERE state = 'unknown' AND wallet_id IS ? "
            "AND intended_at >= ? ORDER BY intended_at",
            (wallet_id, since, wallet_id, since),
        )

    def _going(self, query: str, args: tuple[Any, ...] = ()) -> list[SendIntent]:
        """``query`` with ``{index}`` naming the index of sends still going (without
        statistics SQLite would walk every accepted send by state instead); a file that
        lacks the index (a version-4 ledger of a development build) is read without it."""
        try:
            rows = self._db.execute(query.format(index="INDEXED BY sends_going"), args)
        except sqlite3.OperationalError as error:
            if "no such index" not in str(error):
                raise
            rows = self._db.execute(query.format(index=""), args)
        return [intent_from_row(row) for row in rows]

    @_guarded("reading the prune horizon")
    def horizon(self) -> PruneHorizon | None:
        """Up to when old runs may have been pruned (None: never pruned)."""
        return read_horizon(self._db)

    @_guarded("reading claimed transactions")
    def claimed_among(self, tx_ids: Iterable[str]) -> set[str]:
        """Which of ``tx_ids`` a send names (through the index on tx_id: an audit asks
        about the transactions it read, not about every send ever made)."""
        wanted, found = list(dict.fromkeys(tx_ids)), set[str]()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._db.execute(
                f"SELECT tx_id FROM sends WHERE tx_id IN ({', '.join('?' * len(chunk))})", chunk
            )
            found.update(row["tx_id"] for row in rows)
        return found

    @_guarded("reading what was spent")
    def spent_since(
        self,
        symbol: str,
        since: float,
        *,
        excluding: str | None = None,
        network: str | None = None,
        playbook: str | None = None,
    ) -> int:
        """Smallest units of ``symbol`` that may have left since ``since``, in-flight
        included, on ``network`` (None: on any), of ``playbook``'s sends (None: of every
        playbook's); ``excluding`` leaves out one key (a send judging itself on --resume)."""
        return spent(self._db, symbol, since, excluding, network=network, playbook=playbook)

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


class _Claimed(Container[str]):
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __contains__(self, tx_id: object) -> bool:
        return isinstance(tx_id, str) and bool(self._ledger.claimed_among([tx_id]))


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
