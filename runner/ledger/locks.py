"""Cross-process locks beside the ledger, named only here.

One run per playbook at a time (``playbook-<name>.lock``; `resolve` takes it too, so it
never settles a send beside a live run), and one send per wallet at a time
(``wallet-<id>.lock``: the daemon has no per-wallet nonce manager).
"""

from __future__ import annotations

from pathlib import Path

from filelock import AsyncFileLock, FileLock

from runner.ledger.records import LedgerError

__all__ = [
    "async_playbook_lock",
    "playbook_lock",
    "playbook_lock_path",
    "wallet_lock",
    "wallet_lock_path",
]


def _folder(ledger_path: Path) -> Path:
    folder = ledger_path.parent / "locks"
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


def async_playbook_lock(ledger_path: Path, playbook: str) -> AsyncFileLock:
    return AsyncFileLock(playbook_lock_path(ledger_path, playbook), run_in_executor=False)


def wallet_lock(ledger_path: Path, wallet_id: str | None) -> AsyncFileLock:
    return AsyncFileLock(wallet_lock_path(ledger_path, wallet_id), run_in_executor=False)
