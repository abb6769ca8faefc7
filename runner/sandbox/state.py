"""The sandbox's state in SQLite: wallets, balances, sessions, transactions, the JWT secret.

With a state file, a restart keeps everything and transactions in flight resume: their
next step is stored as an absolute time (``next_at``) and is taken on the next
``advance``. Without one the database lives in memory. Amounts are TEXT because
balances in wei do not fit SQLite's 64-bit integers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wallets (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, chain TEXT NOT NULL,
    environment TEXT NOT NULL, network TEXT NOT NULL, address TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS balances (
    wallet_id TEXT NOT NULL, network TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,
    PRIMARY KEY (wallet_id, network, asset));
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, wallet_ids TEXT NOT NULL, token_hash TEXT NOT NULL,
    token_iat INTEGER NOT NULL, token_exp INTEGER, max_renewals INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL, renewal_count INTEGER NOT NULL,
    created_at INTEGER NOT NULL, last_renewed_at INTEGER, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY, wallet_id TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
    tier TEXT, chain TEXT NOT NULL, network TEXT NOT NULL, to_address TEXT NOT NULL,
    amount TEXT NOT NULL, token_address TEXT, token_symbol TEXT, token_decimals INTEGER,
    memo TEXT, tx_hash TEXT, error TEXT, created_at REAL NOT NULL, next_at REAL);
CREATE INDEX IF NOT EXISTS transactions_due ON transactions (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS transactions_wallet ON transactions (wallet_id, id);
CREATE INDEX IF NOT EXISTS transactions_status ON transactions (wallet_id, status);
"""

NATIVE = "native"  # the asset key of a network's native coin in the balances table


@dataclass(frozen=True)
class WalletRow:
    id: str
    name: str
    chain: str
    environment: str
    network: str
    address: str


@dataclass(frozen=True)
class SessionRow:
    id: str
    wallet_ids: str  # JSON list, in link order
    token_hash: str
    token_iat: int
    token_exp: int | None
    max_renewals: int
    absolute_expires_at: int
    renewal_count: int
    created_at: int
    last_renewed_at: int | None
    revoked_at: int | None

    @property
    def wallets(self) -> list[str]:
        linked: list[str] = json.loads(self.wallet_ids)
        return linked


@dataclass(frozen=True)
class TxRow:
    id: str
    wallet_id: str
    type: str
    status: str
    tier: str | None
    chain: str
    network: str
    to_address: str
    amount: str
    token_address: str | None
    token_symbol: str | None
    token_decimals: int | None
    memo: str | None
    tx_hash: str | None
    error: str | None
    created_at: float
    next_at: float | None

    @property
    def asset(self) -> str:
        return self.token_address.lower() if self.token_address else NATIVE


class Store:
    def __init__(self, path: str | Path | None) -> None:
        self.path = str(path) if path else ":memory:"
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes that land together or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- wallets and balances ---------------------------------------------------------
    def add_wallet(self, wallet: WalletRow) -> None:
        self._insert("wallets", wallet)

    def wallets(self) -> list[WalletRow]:
        rows = self._db.execute("SELECT * FROM wallets ORDER BY rowid").fetchall()
        return [WalletRow(**dict(row)) for row in rows]

    def balance(self, wallet_id: str, network: str, asset: str) -> int:
        row = self._db.execute(
            "SELECT amount FROM balances WHERE wallet_id = ? AND network = ? AND asset = ?",
            (wallet_id, network, asset),
        ).fetchone()
        return 0 if row is None else int(row["amount"])

    def set_balance(self, wallet_id: str, network: str, asset: str, amount: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO balances (wallet_id, network, asset, amount) VALUES (?,?,?,?)",
            (wallet_id, network, asset, str(amount)),
        )

    def add_to_balance(self, wallet_id: str, network: str, asset: str, delta: int) -> None:
        self.set_balance(wallet_id, network, asset, self.balance(wallet_id, network, asset) + delta)

    # -- sessions ---------------------------------------------------------------------
    def add_session(self, session: SessionRow) -> None:
        self._insert("sessions", session)

    def session(self, session_id: str) -> SessionRow | None:
        row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else SessionRow(**dict(row))

    def update_session(self, session_id: str, **changes: Any) -> None:
        self._update("sessions", session_id, changes)

    # -- transactions -----------------------------------------------------------------
    def add_tx(self, tx: TxRow) -> None:
        self._insert("transactions", tx)

    def tx(self, tx_id: str) -> TxRow | None:
        row = self._db.execute("SELECT * FROM transactions WHERE id = ?", (tx_id,)).fetchone()
        return None if row is None else TxRow(**dict(row))

    def update_tx(self, tx_id: str, **changes: Any) -> None:
        self._update("transactions", tx_id, changes)

    def newest_tx_id(self) -> str | None:
        row = self._db.execute("SELECT MAX(id) AS id FROM transactions").fetchone()
        return None if row["id"] is None else str(row["id"])

    def next_due(self, now: float) -> TxRow | None:
        """The transaction whose next automatic step is the earliest one due by ``now``."""
        row = self._db.execute(
            "SELECT * FROM transactions WHERE next_at IS NOT NULL AND next_at <= ? "
            "ORDER BY next_at, id LIMIT 1",
            (now,),
        ).fetchone()
        return None if row is None else TxRow(**dict(row))

    def list_txs(self, wallet_id: str, limit: int, before_id: str | None) -> list[TxRow]:
        """Newest first; ``before_id`` is the daemon's cursor (strictly older ids)."""
        query = "SELECT * FROM transactions WHERE wallet_id = ?"
        params: list[Any] = [wallet_id]
        if before_id is not None:
            query += " AND id < ?"
            params.append(before_id)
        rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        return [TxRow(**dict(row)) for row in rows]

    def txs_with_status(self, wallet_id: str | None, statuses: tuple[str, ...]) -> list[TxRow]:
        """Newest first; ``wallet_id=None`` means every wallet."""
        marks = ",".join("?" for _ in statuses)
        query = f"SELECT * FROM transactions WHERE status IN ({marks})"
        params: tuple[str, ...] = statuses
        if wallet_id is not None:
            query, params = query + " AND wallet_id = ?", (*statuses, wallet_id)
        rows = self._db.execute(query + " ORDER BY id DESC", params).fetchall()
        return [TxRow(**dict(row)) for row in rows]

    def count_txs(self, wallet_id: str | None = None) -> dict[str, int]:
        query = "SELECT status, COUNT(*) AS n FROM transactions"
        params: tuple[str, ...] = ()
        if wallet_id is not None:
            query, params = query + " WHERE wallet_id = ?", (wallet_id,)
        rows = self._db.execute(query + " GROUP BY status", params).fetchall()
        return {str(row["status"]): int(row["n"]) for row in rows}

    # -- helpers ----------------------------------------------------------------------
    def _insert(self, table: str, row: Any) -> None:
        names = [field.name for field in fields(row)]
        self._db.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [getattr(row, name) for name in names],
        )

    def _update(self, table: str, row_id: str, changes: dict[str, Any]) -> None:
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self._db.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?", (*changes.values(), row_id)
        )
