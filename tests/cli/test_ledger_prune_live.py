"""`ledger prune` and `ledger vacuum` beside a process that keeps writing runs: nothing it
wrote is lost, it never fails with "database is locked", and the ledger stays sound."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from runner.ledger import Ledger, LedgerError, StepRecord
from runner.ledger.health import check_file
from tests.cli.test_ledger_lifecycle import DAY, ledger_cli, old_ledger


def writing_beside(path: Path, args: tuple[str, ...]) -> tuple[int, str, list[str], list[str]]:
    stop = threading.Event()
    written: list[str] = []
    failures: list[str] = []

    def keep_writing() -> None:
        with Ledger(path) as ledger:
            number = 0
            while not stop.is_set():
                run_id = f"live-{number}"
                try:
                    ledger.begin_run("live", run_id)
                    ledger.save_steps([StepRecord("a", "ok", {"n": number}, None, 0, 0)], run_id)
                    ledger.finish_run(run_id, "ok", 0)
                except LedgerError as error:
                    failures.append(str(error))
                    return
                written.append(run_id)
                number += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 10 and writer.is_alive():
            time.sleep(0.01)
        code, out, err = ledger_cli(*args, "--state", str(path))
        seen = len(written)
        while len(written) < seen + 10 and writer.is_alive():  # it goes on writing after
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    return code, out + err, written, failures


def test_prune_in_batches_of_one_beside_a_writer(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=120, ago=40 * DAY)
    code, output, written, failures = writing_beside(
        path, ("prune", "--older-than", "30d", "--batch", "1")
    )
    assert code == 0 and "removed: 119 runs" in output, output
    assert failures == []
    report = check_file(path)
    assert report.ok and report.runs == 1 + len(written)  # the newest old run, every live one


def test_vacuum_beside_a_writer(tmp_path: Path) -> None:
    path = old_ledger(tmp_path / "ledger.sqlite3", runs=60, ago=40 * DAY)
    code, output, written, failures = writing_beside(path, ("vacuum",))
    assert code == 0 and "rewritten" in output, output
    assert failures == []
    report = check_file(path)
    assert report.ok and report.runs == 60 + len(written)
