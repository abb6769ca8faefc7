"""Hostile ``--state`` files and backup destinations for the ledger commands: a file that
is not a ledger is refused by every command and left exactly as it was; a DEST that a
path would quietly turn into something else is refused before anything is copied."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.ledger import Ledger, LedgerError
from runner.ledger.health import check_file
from tests.cli.test_ledger_lifecycle import digest, ledger_cli, names, old_ledger
from tests.cli.test_state_hostile import serve

COMMANDS = [
    ("ledger", "prune", "--older-than", "1d"),
    ("ledger", "prune", "--older-than", "1d", "--dry-run"),
    ("ledger", "vacuum"),
    ("ledger", "stats"),
    ("ledger", "export"),
    ("ledger", "export", "--format", "jsonl"),
    ("ledger", "backup", "copy.sqlite3"),
    ("ledger", "check"),
    ("history",),
    ("status",),
]


def invoke(folder: Path, args: tuple[str, ...], state: Path) -> tuple[int, str]:
    resolved = [str(folder / arg) if arg.endswith(".sqlite3") else arg for arg in args]
    result = CliRunner().invoke(main, [*resolved, "--state", str(state)])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def another_programs_database(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE contacts (name TEXT, email TEXT)")
    db.execute("INSERT INTO contacts VALUES ('Ada', 'ada@example.org')")
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_database_of_another_program_is_refused_and_left_as_it_was(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Reproduction: `ledger prune`, `ledger vacuum`, `history` and `status` with
    --state pointing at another program's SQLite file added the ledger's tables to it
    and switched it to WAL (exit 0)."""
    path = another_programs_database(tmp_path / "contacts.db")
    before = digest(path)
    code, output = invoke(tmp_path, args, path)
    assert code == 2, output
    assert "not a waiaas-runner ledger" in output and "contacts" in output, output
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["contacts.db"]


def test_a_run_never_writes_its_tables_into_another_programs_database(tmp_path: Path) -> None:
    path = another_programs_database(tmp_path / "contacts.db")
    before = digest(path)
    with pytest.raises(LedgerError, match="not a waiaas-runner ledger"):
        Ledger(path)
    assert digest(path) == before


@pytest.mark.parametrize(
    "args",
    [args for args in COMMANDS if args[0] == "ledger" and args[1] != "check"],
    ids=" ".join,
)
def test_an_empty_file_is_not_a_ledger_to_the_lifecycle_commands(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Reproduction: `ledger prune` on a 0-byte file made it a ledger and recorded a prune
    horizon in it; `ledger backup` called it damaged."""
    path = tmp_path / "ledger.sqlite3"
    path.touch()
    code, output = invoke(tmp_path, args, path)
    assert code == 2 and "not a waiaas-runner ledger" in output and "empty" in output, output
    assert "damaged" not in output
    assert path.stat().st_size == 0 and names(tmp_path) == ["ledger.sqlite3"]


def test_a_ledger_without_tables_still_becomes_one_for_a_run(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.touch()  # e.g. made by mktemp
    with Ledger(path) as ledger:
        ledger.begin_run("pb", "run-1")
    assert check_file(path).ok and check_file(path).runs == 1


def test_backup_of_a_newer_runners_ledger_says_so_not_damaged(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=2)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    code, _, err = ledger_cli("backup", str(tmp_path / "copy.sqlite3"), "--state", str(path))
    assert code == 2 and "newer waiaas-runner" in err and "damaged" not in err, err
    assert names(tmp_path) == ["ledger.sqlite3"]


@pytest.mark.parametrize(
    ("dest", "said"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-", "standard output"),
        ("{folder}/new/", "names a folder"),
        ("{folder}/", "names a folder"),
        ("{folder}/.", "names a folder"),
        ("{ledger}-journal", "journal"),
        ("{ledger}-wal", "journal"),
        ("{ledger}-shm", "journal"),
        ("via-link:{ledger}-journal", "journal"),  # --state names the ledger by a symlink
    ],
)
def test_backup_refuses_a_dest_that_would_become_something_else(
    tmp_path: Path, dest: str, said: str
) -> None:
    """Reproduction: `ledger backup LEDGER-journal` wrote the copy where SQLite looks for
    the ledger's hot journal: every reader (check, stats, export) then called the ledger
    damaged, and the next run deleted the copy. `backup -` and `backup ' '` wrote files
    named '-' and ' '; `backup missing/` wrote a file named 'missing'."""
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=2)
    link = tmp_path / "link.sqlite3"
    link.symlink_to(path)
    gc.collect()  # old_ledger's last connection: closed, its WAL checkpointed and empty
    for sidecar in ("-wal", "-shm"):  # a closed ledger has none: nothing "exists" there
        Path(f"{path}{sidecar}").unlink(missing_ok=True)
    before = digest(path)
    state = link if dest.startswith("via-link:") else path
    target = dest.removeprefix("via-link:").format(folder=tmp_path, ledger=path)
    code, _, err = ledger_cli("backup", target, "--state", str(state))
    assert code == 2 and said in err, err
    assert names(tmp_path) == ["ledger.sqlite3", "link.sqlite3"]
    assert digest(path) == before and check_file(path).ok


def test_backup_into_a_relative_path_and_the_copy_is_a_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_ledger(tmp_path / "ledger.sqlite3", runs=2)
    monkeypatch.chdir(tmp_path)
    code, out, _ = ledger_cli("backup", "copy.sqlite3", "--state", "ledger.sqlite3")
    assert code == 0 and "checked sound" in out
    report = check_file(tmp_path / "copy.sqlite3")
    assert report.ok and report.runs == 2


@pytest.mark.parametrize(("given", "shown"), [("30d", "30d"), ("1h30m", "90m"), ("36h", "36h")])
def test_stats_names_the_prune_horizon_as_it_was_written(
    tmp_path: Path, given: str, shown: str
) -> None:
    """Reproduction: `ledger stats --older-than 1h30m` said 'a prune --older-than 0.0625d'."""
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=2)
    code, out, _ = ledger_cli("stats", "--older-than", given, "--state", str(path))
    assert code == 0 and f"a prune --older-than {shown}:" in out, out


def test_backup_to_a_name_near_the_file_systems_limit(tmp_path: Path) -> None:
    """Reproduction: a DEST name of 250 bytes (the limit is 255) was refused, 'File name
    too long': the temporary copy beside it was named after the whole DEST."""
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=2)
    dest = tmp_path / ("b" * 250)
    code, out, _ = ledger_cli("backup", str(dest), "--state", str(path))
    assert code == 0 and check_file(dest).ok, out


@pytest.mark.parametrize("kind", ["too-long", "symlink-loop"])
def test_backup_to_a_path_the_system_refuses_is_a_usage_error(tmp_path: Path, kind: str) -> None:
    """Reproduction: a DEST name over 255 bytes stopped with 'stopped by the system'
    (exit 1); a DEST under a loop of symlinks ended in a traceback (RuntimeError)."""
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=2)
    if kind == "too-long":
        dest = tmp_path / ("c" * 256)
    else:
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        dest = tmp_path / "a" / "copy.sqlite3"
    code, _, err = ledger_cli("backup", str(dest), "--state", str(path))
    assert code == 2 and "cannot write" in err, err
    assert names(tmp_path) == sorted(
        ["ledger.sqlite3", *(["a", "b"] if kind != "too-long" else [])]
    )


def test_serve_refuses_another_programs_database_untouched(tmp_path: Path) -> None:
    path = another_programs_database(tmp_path / "contacts.db")
    before = digest(path)
    result = serve(tmp_path, path)
    assert result.exit_code == 2, result.output
    assert "not a waiaas-runner ledger" in result.output and "Traceback" not in result.output
    assert digest(path) == before


@pytest.mark.parametrize(
    "args",
    [
        ("stats",),
        ("export",),
        ("prune", "--older-than", "1d", "--dry-run"),
        ("backup", "copy.sqlite3"),
        ("check",),
    ],
    ids=" ".join,
)
def test_a_journal_beside_the_ledger_is_named_not_called_damage(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Reproduction: with a file at LEDGER-journal (what `backup LEDGER-journal` used to
    write), `ledger check` said DAMAGED with recovery advice and stats/export/dry-run said
    'could not be written ... free disk space': a read-only open cannot roll a journal
    back. A command that writes opens it once and the readers work again."""
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=3)
    gc.collect()
    journal = Path(f"{path}-journal")
    journal.write_bytes(path.read_bytes())
    code, output = invoke(tmp_path, ("ledger", *args), path)
    assert code == 2 and "journal file beside it" in output, output
    assert "DAMAGED" not in output and "disk space" not in output and ".recover" not in output
    assert journal.exists() and not (tmp_path / "copy.sqlite3").exists()
    assert CliRunner().invoke(main, ["history", "--state", str(path)]).exit_code == 0
    assert not journal.exists()
    code, output = invoke(tmp_path, ("ledger", *args), path)
    assert code == 0, output
