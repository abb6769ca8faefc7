"""What every part of the ledger shares: the open connection, one write transaction at a
time, and SQLite's errors said as :class:`LedgerError` naming what was being done."""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, Self, TypeVar

from runner.ledger.connection import connect, failure
from runner.ledger.health import check_newest
from runner.ledger.records import LedgerBusy, LedgerError

__all__ = ["LedgerBase", "guarded"]

P = ParamSpec("P")
R = TypeVar("R")
L = TypeVar("L", bound="LedgerBase")


def guarded(
    doing: str,
) -> Callable[[Callable[Concatenate[L, P], R]], Callable[Concatenate[L, P], R]]:
    """Turn SQLite's errors in a ledger method into a :class:`LedgerError` saying what was
    being done; after damage or a failed write the ledger refuses to record new sends."""

    def wrap(method: Callable[Concatenate[L, P], R]) -> Callable[Concatenate[L, P], R]:
        @functools.wraps(method)
        def guarded(self: L, /, *args: P.args, **kwargs: P.kwargs) -> R:
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


class LedgerBase:
    """One SQLite file, opened and checked; the reads and writes are its subclasses'."""

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

    def __enter__(self) -> Self:
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
