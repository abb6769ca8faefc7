"""`serve --state` and `status --state` with a ledger they must not use as it is: a
directory, a damaged file, a read-only file, a ledger of a newer runner. Each is exit 2
with a message that says what is wrong; none is a traceback, none is written to."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from runner.cli import main
from runner.ledger import Ledger
from runner.ledger.health import SCHEMA_VERSION
from runner.ledger.slots import SlotLog
from tests.exactly_once.conftest import playbook_text

READ = "steps:\n  - id: look\n    balance: { wallet: treasury }\n"


def books(tmp_path: Path) -> Path:
    folder = tmp_path / "books"
    folder.mkdir(exist_ok=True)
    text = playbook_text(f"schedule: {{ interval: 1h }}\n{READ}", "hourly")
    (folder / "hourly.yaml").write_text(text, encoding="utf-8")
    return folder


def invoke(*args: str) -> Result:
    env = {"WAIAAS_URL": "http://127.0.0.1:9", "WAIAAS_SESSION_TOKEN": "wai_sess_x"}
    return CliRunner().invoke(main, list(args), env=env)


def serve(tmp_path: Path, state: Path) -> Result:
    return invoke("serve", str(books(tmp_path)), "--state", str(state), "--log-format", "json")


def newer_ledger(tmp_path: Path) -> Path:
    path = tmp_path / "newer.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.execute("ALTER TABLE sends ADD COLUMN settled_by TEXT")  # what a newer one might add
    db.commit()
    db.close()
    return path


def test_a_ledger_of_a_newer_runner_is_refused_not_used(tmp_path: Path) -> None:
    """Reproduction: user_version 3 (a newer runner's ledger): serve ran and wrote slots
    into it, status read it, `ledger check` said sound, all with exit 0."""
    path = newer_ledger(tmp_path)
    before = path.read_bytes()
    for result in (serve(tmp_path, path), invoke("status", "--state", str(path))):
        assert result.exit_code == 2, result.output
        assert "written by a newer waiaas-runner" in result.output
        assert "Traceback" not in result.output
    check = invoke("ledger", "check", "--state", str(path))
    assert check.exit_code == 2
    assert "not checked" in check.output and "DAMAGED" not in check.output
    assert path.read_bytes() == before


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` made unwritable even for root (chattr +i), else by its mode."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            path.parent.chmod(0o755)
            path.chmod(0o644)
        return
    try:
        subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("cannot make a file read-only for root here (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)


def test_serve_refuses_a_read_only_ledger_at_start(tmp_path: Path) -> None:
    """Reproduction: a ledger serve can open but not write (read-only mount, immutable
    file): serve started, then died with sqlite3.OperationalError's traceback (exit 1) at
    the first slot it recorded. The write check (also /-/ready's) took a lock only, which
    SQLite grants on a read-only file."""
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    SlotLog(path).close()  # a ledger serve has used before
    with read_only(path):
        result = serve(tmp_path, path)
        assert result.exit_code == 2, result.output
        assert "could not be written" in result.output
        assert "Traceback" not in result.output
        # status only reads: it still answers
        assert invoke("status", "--state", str(path)).exit_code == 0


@pytest.mark.parametrize("kind", ["directory", "damaged", "empty-name"])
def test_status_and_serve_name_the_problem_of_other_bad_ledgers(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "state"
    if kind == "directory":
        path.mkdir()
    elif kind == "damaged":
        path.write_bytes(b"not a database " * 100)
    else:
        path = tmp_path / "missing" / "x.sqlite3"
    status = invoke("status", "--state", str(path))
    assert status.exit_code == 2, status.output
    assert "Traceback" not in status.output
    if kind != "empty-name":  # serve creates a new ledger there, as documented
        result = serve(tmp_path, path)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output


def test_a_ledger_path_that_is_not_a_regular_file_is_refused_untouched(tmp_path: Path) -> None:
    """Reproduction: --state /dev/null (or a FIFO): SQLite 'opened' it, wrote
    /dev/null-journal beside it (as root: a file in /dev) and failed with 'disk I/O
    error ... free disk space'. Now it is refused before SQLite sees it."""
    fifo = tmp_path / "ledger.fifo"
    os.mkfifo(fifo)
    for result in (serve(tmp_path, fifo), invoke("status", "--state", str(fifo))):
        assert result.exit_code == 2, result.output
        assert "not a regular file" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["books", "ledger.fifo"]
