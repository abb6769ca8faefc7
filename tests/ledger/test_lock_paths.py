"""Processes that name one ledger by different paths (a symlink to it, a symlinked folder)
meet at one lock: the wallet lock under which a send's pipeline wait, intent and post
happen (issue #19: otherwise both pass the wait at once and their sends sign together),
and the playbook lock."""

from __future__ import annotations

from pathlib import Path

from runner.ledger.locks import (
    playbook_lock_path,
    wallet_lock,
    wallet_lock_path,
)


def _paths(tmp_path: Path) -> list[Path]:
    real = tmp_path / "data" / "ledger.sqlite3"
    real.parent.mkdir()
    real.write_bytes(b"")
    linked_file = tmp_path / "ledger-link.sqlite3"
    linked_file.symlink_to(real)
    linked_folder = tmp_path / "data-link"
    linked_folder.symlink_to(real.parent, target_is_directory=True)
    return [real, linked_file, linked_folder / "ledger.sqlite3"]


def test_every_name_of_one_ledger_has_one_lock_folder(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    assert len({wallet_lock_path(path, "w1") for path in paths}) == 1
    assert len({playbook_lock_path(path, "payroll") for path in paths}) == 1
    assert wallet_lock_path(paths[1], "w1").parent == tmp_path / "data" / "locks"


async def test_a_wallet_lock_taken_through_a_symlink_excludes_the_real_path(
    tmp_path: Path,
) -> None:
    real, linked_file, linked_folder = _paths(tmp_path)
    holder = wallet_lock(linked_file, "w1")
    assert await holder.acquire(wait=False)
    try:
        for other in (real, linked_folder):
            assert not await wallet_lock(other, "w1").acquire(wait=False)
    finally:
        holder.release()
    assert await wallet_lock(real, "w1").acquire(wait=False)
