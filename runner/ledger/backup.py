"""``ledger backup``: a consistent copy of a ledger that runs and serve keep writing.

SQLite's online backup copies the database as one read transaction sees it (WAL: writers
go on meanwhile, the copy is the state at one instant, never half a run). The copy is
written beside DEST under a temporary name, checked in full, and only then given its
name (a hard link, which refuses an existing DEST): a failed or damaged copy leaves
nothing at DEST, and the ledger itself is only read.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from runner.ledger.health import LedgerReport, check_file
from runner.ledger.records import LedgerDamaged, LedgerError

__all__ = ["BackupResult", "backup"]


@dataclass(frozen=True)
class BackupResult:
    dest: Path
    bytes: int
    seconds: float
    report: LedgerReport


def backup(source: Path, dest: Path) -> BackupResult:
    """Copy the ledger at ``source`` to ``dest`` (which must not exist); raises
    :class:`LedgerError` saying why not, having written nothing at ``dest``."""
    _check_dest(source, dest)
    started = time.perf_counter()
    try:
        # a short prefix: a DEST name near the file system's limit must still fit
        handle, name = tempfile.mkstemp(
            prefix=f".{dest.name[:24]}.", suffix=".partial", dir=dest.parent
        )
    except OSError as error:
        raise LedgerError(f"cannot write {dest}: {error.strerror or error}") from None
    os.close(handle)
    partial = Path(name)
    try:
        _copy(source, partial)
        report = check_file(partial)
        if not report.ok:
            raise LedgerDamaged(
                f"the copy of {source} is not sound ({'; '.join(report.problems[:3])}): the "
                f"ledger itself is damaged; see `waiaas-run ledger check --state {source}`. "
                f"Nothing was written at {dest}"
            )
        try:
            os.link(partial, dest)
        except FileExistsError:
            raise LedgerError(f"{dest} appeared while the copy was made; not overwritten") from None
        except OSError as error:
            raise LedgerError(f"cannot write {dest}: {error.strerror or error}") from None
    finally:
        for leftover in (partial, *_sidecars(partial)):
            with contextlib.suppress(OSError, RuntimeError):
                leftover.unlink()
    return BackupResult(dest, dest.stat().st_size, time.perf_counter() - started, report)


def _check_dest(source: Path, dest: Path) -> None:
    try:
        _check_dest_path(source, dest)
    except OSError as error:  # a name too long, no permission
        raise LedgerError(f"cannot write {dest}: {error.strerror or error}") from None
    except RuntimeError:  # Path.resolve() of a loop of symlinks (Python 3.11)
        raise LedgerError(f"cannot write {dest}: a loop of symbolic links") from None


def _check_dest_path(source: Path, dest: Path) -> None:
    if not source.is_file():
        raise LedgerError(f"no ledger at {source} (nothing to back up)")
    if dest.is_dir():
        raise LedgerError(f"{dest} is a directory: give the path of the copy to write")
    with contextlib.suppress(OSError, RuntimeError):
        if dest.resolve() in {*_sidecars(source.absolute()), *_sidecars(source.resolve())}:
            # SQLite takes a file there for the ledger's journal (or WAL): the next open
            # "rolls it back" and deletes it, and until then readers call the ledger damaged
            raise LedgerError(
                f"{dest} is the name of the ledger's own journal file: choose another name"
            )
    if dest.exists() or dest.is_symlink():
        raise LedgerError(f"{dest} exists: a backup never overwrites a file; choose a new name")
    with contextlib.suppress(OSError, RuntimeError):
        if dest.resolve() == source.resolve():
            raise LedgerError(f"{dest} is the ledger itself")
    parent = dest.parent
    if not parent.is_dir():
        raise LedgerError(f"cannot write {dest}: its folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise LedgerError(f"cannot write {dest}: its folder {parent} is not writable")


def _copy(source: Path, partial: Path) -> None:
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise LedgerError(f"cannot open the ledger {source}: {error}") from None
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # all pages in one step: one consistent snapshot
            # one self-contained file (no -wal beside it); a run with it goes back to WAL
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.OperationalError as error:  # locked, no space, cannot open: not damage
        raise LedgerError(f"the copy of {source} failed: {error}") from None
    except sqlite3.DatabaseError as error:
        raise LedgerDamaged(
            f"the ledger {source} cannot be copied ({error}): it is damaged; see "
            f"`waiaas-run ledger check --state {source}`"
        ) from None
    finally:
        src.close()


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]
