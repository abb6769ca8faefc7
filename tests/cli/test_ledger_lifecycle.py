"""``waiaas-run ledger prune|vacuum|backup|export|stats`` from the command line: what they
print, and that bad input is a clear error (exit 2) that changes nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.client import TransferRequest
from runner.ledger import Ledger, StepRecord
from runner.ledger.health import check_file
from runner.ledger.retention import file_bytes
from tests.ledger.damage import damage, fill, newest_leaf

DAY = 86_400.0


def ledger_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["ledger", *args])
    assert "Traceback" not in result.stderr + result.stdout
    return result.exit_code, result.stdout, result.stderr


def names(folder: Path) -> list[str]:
    """What is in ``folder``, but an open ledger's -wal and -shm."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm")))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def old_ledger(path: Path, runs: int = 30, *, ago: float = 40 * DAY) -> Path:
    """``runs`` settled runs of one playbook, started ``ago`` seconds back, a minute apart."""
    start = time.time() - ago
    for number in range(runs):
        clock = iter(float(start + number * 60 + tick) for tick in range(100))
        with Ledger(path, clock=lambda clock=clock: next(clock)) as ledger:  # type: ignore[misc]
            run_id = f"20261001T{number:06d}Z-{number:06x}"
            ledger.begin_run("pb", run_id)
            ledger.save_steps([StepRecord("a", "ok", {"x": "y" * 200}, None, 0, 0)], run_id)
            key = f"pb/{run_id}/fund"
            request = TransferRequest(
                "0xabc", 10**15, network="ethereum-sepolia", wallet_id="w", symbol="ETH"
            )
            ledger.intend_send(
                key=key, run_id=run_id, playbook="pb", step_id="fund", request=request
            )
            ledger.mark_accepted(key, f"tx-{number}", "CONFIRMED")
            ledger.finish_run(run_id, "ok", 0)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


# -- prune -----------------------------------------------------------------------------


def test_prune_says_what_it_removed_and_kept(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3")
    code, out, _ = ledger_cli("prune", "--older-than", "30d", "--dry-run", "--state", str(path))
    assert code == 0 and "would remove: 29 runs, 29 steps, 29 sends, 0 slots" in out
    assert "1 run(s): the newest run of its playbook" in out
    code, out, _ = ledger_cli("prune", "--older-than", "30d", "--state", str(path))
    assert code == 0, out
    assert "removed: 29 runs, 29 steps, 29 sends, 0 slots" in out
    assert "the longest held the write lock" in out and " MB -> " in out
    assert check_file(path).ok and check_file(path).runs == 1
    code, out, _ = ledger_cli("prune", "--older-than", "30d", "--state", str(path))
    assert code == 0 and "removed: 0 runs" in out


@pytest.mark.parametrize(
    "duration", ["-1d", "0", "0s", "0d0h", "abc", "1.5d", "", "30", "400d", "99999999999d", "1 d"]
)
def test_a_bad_duration_is_refused_and_nothing_changes(tmp_path: Path, duration: str) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=3)
    before = digest(path)
    code, _, err = ledger_cli("prune", "--older-than", duration, "--state", str(path))
    assert code == 2 and "--older-than" in err, err
    assert digest(path) == before


def test_prune_without_a_ledger(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite3"
    code, _, err = ledger_cli("prune", "--older-than", "7d", "--state", str(missing))
    assert code == 2 and "no ledger at" in err and not missing.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("prune", "--older-than", "1d"),
        ("prune", "--older-than", "1d", "--dry-run"),
        ("stats",),
        ("export",),
        ("vacuum",),
    ],
)
def test_a_damaged_ledger_is_a_clear_error_and_nothing_changes(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    path = tmp_path / "ledger.sqlite3"
    fill(path, runs=40)
    damage(path, newest_leaf(path, "steps"))
    before = digest(path)
    code, _, err = ledger_cli(*args, "--state", str(path))
    assert code == 2 and "is damaged" in err and ".recover" in err, err
    assert digest(path) == before


def test_a_file_that_is_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n" * 200)
    before = digest(path)
    for args in (("prune", "--older-than", "1d"), ("stats",), ("export",)):
        code, _, err = ledger_cli(*args, "--state", str(path))
        assert code == 2 and str(path) in err
    assert digest(path) == before


def test_vacuum_converts_an_old_ledger_so_that_prune_shrinks_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    legacy = sqlite3.connect(path)  # created before retention: no incremental vacuum
    legacy.execute("PRAGMA auto_vacuum=NONE")
    legacy.execute("CREATE TABLE placeholder (x)")  # the file has pages: no auto_vacuum
    legacy.execute("DROP TABLE placeholder")  # and no table a ledger lacks
    legacy.close()
    old_ledger(path, runs=200)
    code, out, _ = ledger_cli("prune", "--older-than", "30d", "--state", str(path))
    assert code == 0 and "`waiaas-run ledger vacuum`" in out
    code, out, _ = ledger_cli("vacuum", "--state", str(path))
    assert code == 0 and "rewritten" in out
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    assert check_file(path).ok


# -- backup ----------------------------------------------------------------------------


def test_backup_while_another_connection_writes(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=50, ago=DAY)
    stop = threading.Event()
    written = []

    def keep_writing() -> None:
        with Ledger(path) as ledger:
            number = 0
            while not stop.is_set():
                run_id = f"live-{number}"
                ledger.begin_run("live", run_id)
                ledger.save_steps([StepRecord("a", "ok", {"n": number}, None, 0, 0)], run_id)
                ledger.finish_run(run_id, "ok", 0)
                written.append(run_id)
                number += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 20:
            time.sleep(0.01)
        dest = tmp_path / "copies" / "ledger-backup.sqlite3"
        dest.parent.mkdir()
        code, out, err = ledger_cli("backup", str(dest), "--state", str(path))
    finally:
        stop.set()
        writer.join()
    assert code == 0, err
    assert "checked sound" in out
    assert sorted(p.name for p in dest.parent.iterdir()) == ["ledger-backup.sqlite3"]
    report = check_file(dest)
    assert report.ok and 70 <= report.runs <= 50 + len(written)
    code, out, _ = ledger_cli("check", "--state", str(dest))
    assert code == 0 and "sound" in out


def test_backup_refuses_bad_destinations_and_writes_nothing(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=3)
    before = digest(path)
    existing = tmp_path / "existing.sqlite3"
    existing.write_text("keep me")
    folder = tmp_path / "folder"
    folder.mkdir()
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    cases = {
        existing: "exists",
        folder: "is a directory",
        path: "exists",  # the ledger itself
        tmp_path / "no" / "such" / "copy.sqlite3": "does not exist",
        a_file / "copy.sqlite3": "does not exist",
        Path("/proc/waiaas-copy.sqlite3"): "cannot write",
    }
    for dest, said in cases.items():
        code, _, err = ledger_cli("backup", str(dest), "--state", str(path))
        assert code == 2 and said in err, (dest, err)
    assert existing.read_text() == "keep me" and list(folder.iterdir()) == []
    assert digest(path) == before
    assert names(tmp_path) == ["existing.sqlite3", "folder", "ledger.sqlite3", "plain.txt"]


def test_backup_of_the_ledger_under_another_name(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=3)
    link = tmp_path / "link.sqlite3"
    link.symlink_to(path)
    code, _, err = ledger_cli("backup", str(link), "--state", str(path))
    assert code == 2 and "exists" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_backup_into_a_read_only_folder(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=3)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = ledger_cli("backup", str(locked / "copy.sqlite3"), "--state", str(path))
    assert code == 2 and "not writable" in err


def test_backup_of_a_damaged_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    fill(path, runs=40)
    damage(path, newest_leaf(path, "steps"))
    dest = tmp_path / "copy.sqlite3"
    code, _, err = ledger_cli("backup", str(dest), "--state", str(path))
    assert code == 2 and "damaged" in err and not dest.exists()
    assert names(tmp_path) == ["ledger.sqlite3"]


# -- export ----------------------------------------------------------------------------

INJECTIONS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("x")']


def injected_ledger(path: Path) -> Path:
    with Ledger(path, clock=lambda: time.time() - 3600) as ledger:
        for number, text in enumerate(INJECTIONS):
            playbook, run_id = f"{text}-book", f"run-{number}"
            ledger.begin_run(playbook, run_id)
            key = f"{playbook}/{run_id}/fund"
            request = TransferRequest(
                text + "0xabc", 123456789, memo=text, network="solana-devnet", symbol="SOL"
            )
            ledger.intend_send(
                key=key, run_id=run_id, playbook=playbook, step_id="fund", request=request
            )
            ledger.mark_accepted(key, f"tx-injected-{number}", "CONFIRMED")
    return path


def test_export_csv_is_safe_for_spreadsheets(tmp_path: Path) -> None:
    path = injected_ledger(tmp_path / "ledger.sqlite3")
    code, out, err = ledger_cli("export", "--state", str(path))
    assert code == 0 and f"{len(INJECTIONS)} send(s) exported" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(INJECTIONS)
    for row in rows:
        for column in ("playbook", "to", "memo"):
            assert row[column].startswith("'"), (column, row[column])
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert {row["amount"] for row in rows} == {"0.123456789"}  # SOL has 9 decimals
    assert {row["amount_raw"] for row in rows} == {"123456789"}
    assert {row["symbol"] for row in rows} == {"SOL"} and rows[0]["state"] == "accepted"
    assert rows[0]["tx_status"] == "CONFIRMED" and rows[0]["intended_at"].endswith("Z")


def test_export_jsonl_keeps_values_as_they_are(tmp_path: Path) -> None:
    path = injected_ledger(tmp_path / "ledger.sqlite3")
    code, out, _ = ledger_cli("export", "--format", "jsonl", "--state", str(path))
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [record["memo"] for record in records] == INJECTIONS
    assert set(records[0]) >= {"run_id", "playbook", "step", "wallet", "network", "to"}
    assert "request" not in records[0]


def test_export_filters(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=5, ago=10 * DAY)
    injected_ledger(path)
    code, out, _ = ledger_cli("export", "--since", "2d", "--format", "jsonl", "--state", str(path))
    assert code == 0 and len(out.splitlines()) == len(INJECTIONS)
    code, out, _ = ledger_cli(
        "export", "--playbook", "pb", "--format", "jsonl", "--state", str(path)
    )
    assert code == 0 and len(out.splitlines()) == 5
    code, out, _ = ledger_cli("export", "--since", "2000-01-01", "--state", str(path))
    assert code == 0 and len(list(csv.reader(io.StringIO(out)))) == 1 + 5 + len(INJECTIONS)
    for bad in ("yesterday", "-3d", "2026-13-01"):
        code, _, err = ledger_cli("export", "--since", bad, "--state", str(path))
        assert code == 2 and "--since" in err


def test_no_session_token_reaches_the_ledger_or_its_export(tmp_path: Path) -> None:
    """A real run with a session token: the token is in no byte of the ledger file, so
    no export, stats or backup can show it."""
    from tests.exactly_once.processes import Runner, sandbox_process

    playbook = (
        "steps:\n  - id: fund\n"
        '    send: { from: treasury, to: agent, amount: "0.001 ETH", memo: "x" }\n'
    )
    with sandbox_process(tmp_path) as daemon:
        runner = Runner(daemon, tmp_path, playbook, "nightly")
        assert runner.run().returncode == 0
        token = daemon.token
    assert len(token) > 20
    ledger = runner.ledger
    with sqlite3.connect(ledger) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert token.encode() not in ledger.read_bytes()
    outputs = [
        ledger_cli("export", "--format", fmt, "--state", str(ledger)) for fmt in ("csv", "jsonl")
    ]
    outputs.append(ledger_cli("stats", "--state", str(ledger)))
    for code, out, err in outputs:
        assert code == 0 and token not in out + err
    assert "nightly" in outputs[0][1]


# -- stats -----------------------------------------------------------------------------


def test_stats(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=12, ago=40 * DAY)
    code, out, _ = ledger_cli("stats", "--output", "json", "--state", str(path))
    document = json.loads(out)
    assert code == 0
    assert document["rows"] == {"runs": 12, "steps": 12, "sends": 12, "slots": 0}
    assert document["file_bytes"] == file_bytes(path) and document["incremental_vacuum"]
    assert document["oldest_run"] < document["newest_run"]
    assert document["prune"]["would_remove"]["runs"] == 11
    assert document["prune"]["would_keep"] == {"newest": 1}
    assert document["prune"]["would_free_bytes_about"] > 0 and document["pruned_before"] is None
    code, out, _ = ledger_cli("stats", "--older-than", "90d", "--state", str(path))
    assert code == 0 and "would remove: 0 runs" in out and "12 runs" in out
    ledger_cli("prune", "--older-than", "30d", "--state", str(path))
    code, out, _ = ledger_cli("stats", "--state", str(path))
    assert code == 0 and "were pruned" in out and "1 runs" in out
