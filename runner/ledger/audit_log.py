"""What serve's audits have found and posted, kept in the ledger file.

A finding is posted to the audit webhook once: also across a restart of serve, which reads
this table back. Each finding is kept with when it was first found (``/status`` shows it)
and when it was posted (NULL: not yet, the next audit tries again). Its own table and its
own short-lived connection (WAL lets it share the file): an audit writes here once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from runner.ledger.connection import failure

__all__ = ["AuditLog", "Known"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_findings (
    identity TEXT PRIMARY KEY,
    found_at REAL NOT NULL,
    posted_at REAL
);
"""
_SEPARATOR = "\x1f"  # between the parts of a finding's identity (never in an id)

Identity = tuple[str, ...]


@dataclass(frozen=True)
class Known:
    found_at: float
    posted_at: float | None


class AuditLog:
    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)

    @contextmanager
    def _db(self, doing: str) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self._path, isolation_level=None, timeout=30.0)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                yield db
        except sqlite3.Error as error:
            raise failure(error, self._path, doing) from None

    def known(self) -> dict[Identity, Known]:
        """Every finding recorded (raises :class:`~runner.ledger.LedgerError`)."""
        with self._db("reading audit findings") as db:
            rows = db.execute("SELECT identity, found_at, posted_at FROM audit_findings")
            return {
                tuple(identity.split(_SEPARATOR)): Known(found_at, posted_at)
                for identity, found_at, posted_at in rows
            }

    def record(
        self,
        found: dict[Identity, float],
        posted: Iterable[tuple[Identity, float]],
        *,
        forget_before: float | None = None,
    ) -> None:
        """New findings with when they were found, and findings just posted, in one write;
        posted findings first found before ``forget_before`` are dropped (their transactions
        are older than any audit reads again, so they can never be found, nor posted, twice)."""
        with self._db("recording audit findings") as db:
            db.execute("BEGIN")
            if forget_before is not None:
                db.execute(
                    "DELETE FROM audit_findings WHERE found_at < ? AND posted_at IS NOT NULL",
                    (forget_before,),
                )
            db.executemany(
                "INSERT INTO audit_findings (identity, found_at) VALUES (?, ?) "
                "ON CONFLICT (identity) DO NOTHING",
                [(_SEPARATOR.join(identity), at) for identity, at in found.items()],
            )
            db.executemany(
                "UPDATE audit_findings SET posted_at = ? WHERE identity = ?",
                [(at, _SEPARATOR.join(identity)) for identity, at in posted],
            )
            db.execute("COMMIT")
