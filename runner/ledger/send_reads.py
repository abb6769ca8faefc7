"""The ledger's reads of send intents that runs, serve, the audit and the status page make
often: each goes through an index, so its cost follows what it returns, not the ledger's
age (a ledger of ten million runs answers as fast as a fresh one)."""

from __future__ import annotations

import sqlite3
from collections.abc import Container, Iterable
from typing import Any

from runner.ledger.base import LedgerBase, guarded
from runner.ledger.horizon import SENDS_GOING, PruneHorizon, read_horizon
from runner.ledger.records import SendIntent, SendState, intent_from_row, spent

__all__ = ["SendReads"]


class SendReads(LedgerBase):
    @guarded("reading send intents")
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

    @guarded("reading the sends still going")
    def sends_going(self) -> list[SendIntent]:
        """Intended sends, and accepted ones whose transaction was last seen in a status
        that is not final, oldest first (serve's status page, on every view)."""
        return self._going(
            f"SELECT * FROM sends {{index}} WHERE {SENDS_GOING} ORDER BY intended_at"
        )

    def claimed_tx_ids(self) -> Container[str]:
        """Transaction ids some intent owns, asked one id at a time through the tx_id index
        (reconciliation asks about one page of the daemon's list, never all of them)."""
        return _Claimed(self)

    @guarded("reading a wallet's sends")
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

    @guarded("reading the prune horizon")
    def horizon(self) -> PruneHorizon | None:
        """Up to when old runs may have been pruned (None: never pruned)."""
        return read_horizon(self._db)

    @guarded("reading claimed transactions")
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

    @guarded("reading what was spent")
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


class _Claimed(Container[str]):
    def __init__(self, ledger: SendReads) -> None:
        self._ledger = ledger

    def __contains__(self, tx_id: object) -> bool:
        return isinstance(tx_id, str) and bool(self._ledger.claimed_among([tx_id]))
