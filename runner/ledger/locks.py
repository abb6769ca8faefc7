"""Cross-process locks beside the ledger, named only here.

One run per playbook at a time (``playbook-<name>.lock``; `resolve` takes it too, so it
never settles a send beside a live run), and one send per wallet at a time
(``wallet-<id>.lock``: the daemon has no per-wallet nonce manager).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from runner.ledger.records import LedgerError

__all__ = [
    "AsyncLock",
    "async_playbook_lock",
    "playbook_lock",
    "playbook_lock_path",
    "wallet_lock",
    "wallet_lock_path",
]


def _folder(ledger_path: Path) -> Path:
    # Beside the file itself: two processes that name one ledger by different paths (a
    # symlink, a relative path from elsewhere) must meet at one lock, or both would pass a
    # wallet's pipeline wait at once and their sends would sign together. SQLite keeps its
    # journal beside the file too, so that folder is writable wherever the ledger is.
    folder = ledger_path.resolve().parent / "locks"
    try:
        folder.mkdir(exist_ok=True)
    except FileExistsError:
        raise LedgerError(
            f"the lock folder {folder} is a file, not a folder: move it away (nothing in "
            "it is needed), then run again; nothing was done"
        ) from None
    except OSError as error:
        raise LedgerError(
            f"cannot create the lock folder {folder} ({error.strerror or error}); nothing was done"
        ) from None
    return folder


def playbook_lock_path(ledger_path: Path, playbook: str) -> Path:
    return _folder(ledger_path) / f"playbook-{playbook}.lock"


def wallet_lock_path(ledger_path: Path, wallet_id: str | None) -> Path:
    return _folder(ledger_path) / f"wallet-{wallet_id or 'default'}.lock"


def playbook_lock(ledger_path: Path, playbook: str) -> FileLock:
    """The blocking form, for commands outside the event loop (`resolve`)."""
    return FileLock(playbook_lock_path(ledger_path, playbook))


def async_playbook_lock(ledger_path: Path, playbook: str) -> AsyncLock:
    return AsyncLock(playbook_lock_path(ledger_path, playbook))


def wallet_lock(ledger_path: Path, wallet_id: str | None) -> AsyncLock:
    return AsyncLock(wallet_lock_path(ledger_path, wallet_id))


class AsyncLock:
    """A cross-process file lock for the event loop: it tries without blocking and sleeps
    between tries, so a busy lock never stalls the other runs of the process.

    Built on filelock's plain lock (flock: one holder per open file, so two runs of one
    process exclude each other too); its asyncio module would cost a one-shot run a
    fifth of its start-up in imports for the same polling.
    """

    POLL_SECONDS = 0.05

    def __init__(self, path: Path) -> None:
        self._lock = FileLock(path)

    async def acquire(self, *, wait: bool = True) -> bool:
        """True once held; False at once when another holds it and ``wait`` is off."""
        while True:
            try:
                self._lock.acquire(blocking=False)
            except Timeout:
                if not wait:
                    return False
                await asyncio.sleep(self.POLL_SECONDS)
            else:
                return True

    def release(self) -> None:
        self._lock.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
