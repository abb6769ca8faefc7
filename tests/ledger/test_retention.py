"""Retention (ledger/retention.py): what a prune removes, what it never removes, and that
the ledger remembers how far it pruned."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from runner.client import TransferRequest
from runner.ledger import Ledger, StepRecord
from runner.ledger.connection import connect
from runner.ledger.horizon import read_horizon, slot_problem
from runner.ledger.retention import Pruner, PruneReport, file_bytes
from runner.ledger.slots import SlotLog

DAY = 86_400.0
NOW = 100 * DAY
HORIZON = NOW - 7 * DAY


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def add_run(
    path: Path,
    run_id: str,
    started: float,
    *,
    playbook: str = "pb",
    send: tuple[str, str | None] | None = ("accepted", "CONFIRMED"),
    status: str = "ok",
    memo: str = "m",
) -> None:
    """A run with two step records and (unless ``send`` is None) one send in the given
    (state, tx_status)."""
    clock = Clock(started)
    with Ledger(path, clock=clock) as ledger:
        ledger.begin_run(playbook, run_id)
        ledger.save_steps(
            [StepRecord(s, "ok", {"memo": memo * 50}, None, started, started) for s in "ab"],
            run_id,
        )
        if send is not None:
            state, tx_status = send
            key = f"{playbook}/{run_id}/fund"
            request = TransferRequest(
                "0xabc", 10**15, memo=memo, network="ethereum-sepolia", wallet_id="w", symbol="ETH"
            )
            ledger.intend_send(
                key=key, run_id=run_id, playbook=playbook, step_id="fund", request=request
            )
            if state == "accepted":
                ledger.mark_accepted(key, f"tx-{run_id}", tx_status or "")
            elif state == "unknown":
                ledger.mark_unknown(key, "lost answer")
            elif state == "not_sent":
                ledger.mark_not_sent(key, "refused")
        if status != "running":
            ledger.finish_run(run_id, status, 0 if status == "ok" else 1)
    if send is not None and send == ("accepted", None):  # no status heard yet
        with sqlite3.connect(path) as db:
            db.execute("UPDATE sends SET tx_status = NULL WHERE run_id = ?", (run_id,))


def prune(path: Path, before: float = HORIZON, now: float = NOW, **options: object) -> PruneReport:
    db = connect(path)
    try:
        return Pruner(db, before, now=now, **options).run()  # type: ignore[arg-type]
    finally:
        db.close()


def run_ids(path: Path) -> set[str]:
    with Ledger(path) as ledger:
        return {run.run_id for run in ledger.runs(limit=10_000)}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_prune_keeps_everything_it_must_and_removes_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    old = 10 * DAY
    removable = {
        "settled": ("accepted", "CONFIRMED"),
        "failed-tx": ("accepted", "FAILED"),
        "expired-tx": ("accepted", "EXPIRED"),
        "not-sent": ("not_sent", None),
    }
    for number, (run_id, send) in enumerate(removable.items()):
        add_run(path, run_id, old + number, send=send)
    add_run(path, "no-send", old + 10, send=None)
    kept = {
        "intended": ("intended", None),
        "unknown": ("unknown", None),
        "pending": ("accepted", "PENDING"),
        "queued": ("accepted", "QUEUED"),
        "awaiting-approval": ("accepted", "AWAITING_APPROVAL"),  # a status we do not know
        "no-status": ("accepted", None),
    }
    for number, (run_id, send) in enumerate(kept.items()):
        add_run(path, run_id, old + 20 + number, send=send)
    add_run(path, "crashed", old + 30, send=None, status="running")
    add_run(path, "newest-old", old + 40)  # newest of playbook "pb", older than the horizon
    add_run(path, "other-newest", old, playbook="other")  # the only run of "other"
    add_run(path, "recent", NOW - DAY, playbook="fresh")  # newer than the horizon: not read

    report = prune(path)

    left = run_ids(path)
    assert left == {*kept, "crashed", "newest-old", "other-newest", "recent"}
    assert report.removed["runs"] == 5
    assert report.removed["sends"] == 4 and report.removed["steps"] == 10
    assert report.kept == {"unsettled": 6, "unfinished": 1, "newest": 2}
    with Ledger(path) as ledger:
        assert ledger.steps("settled") == {} and ledger.send("pb/settled/fund") is None
        assert set(ledger.steps("pending")) == {"a", "b"}
        horizon = ledger.horizon()
    assert horizon is not None and horizon.before == HORIZON and horizon.runs == 5
    text = "\n".join(report.lines())
    assert "removed: 5 runs, 10 steps, 4 sends" in text
    assert "6 run(s): a send not settled" in text and "newest run of its playbook" in text


def test_a_send_of_the_daily_cap_window_is_kept(tmp_path: Path) -> None:
    """A horizon shorter than a day: what max_per_day still counts stays."""
    path = tmp_path / "ledger.sqlite3"
    add_run(path, "two-hours-ago", NOW - 2 * 3600)
    add_run(path, "thirty-hours-ago", NOW - 30 * 3600)
    add_run(path, "one-hour-ago", NOW - 3600 + 1)  # the newest; after the horizon anyway
    report = prune(path, before=NOW - 3600)
    assert run_ids(path) == {"two-hours-ago", "one-hour-ago"}
    assert report.kept == {"cap_window": 1}
    with Ledger(path) as ledger:  # the cap still sees the send
        assert ledger.spent_since("ETH", NOW - DAY) == 2 * 10**15


def test_prune_works_in_small_batches(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    for number in range(25):
        add_run(path, f"run-{number:02d}", DAY + number)
    report = prune(path, batch=4)
    assert run_ids(path) == {"run-24"}
    assert report.removed["runs"] == 24
    assert report.batches >= 7  # 25 runs, 4 a batch, plus the horizon and vacuum slices
    assert 0 < report.longest_lock < 5


def test_batch_must_hold_a_run(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    add_run(path, "r", DAY)
    db = connect(path)
    with pytest.raises(ValueError, match="at least one"):
        Pruner(db, HORIZON, now=NOW, batch=0)
    db.close()


def test_the_file_shrinks(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    db = connect(path)
    db.execute("BEGIN")
    for number in range(3000):  # bulk, as the runner writes them
        run_id = f"run-{number:05d}"
        db.execute(
            "INSERT INTO runs VALUES (?, 'pb', NULL, ?, ?, 'ok', 0)", (run_id, DAY + number, DAY)
        )
        db.execute("INSERT INTO steps VALUES (?, 'a', 'ok', ?, NULL, 0, 0)", (run_id, "x" * 500))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    before = file_bytes(path)
    report = prune(path)
    db = connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    after = file_bytes(path)
    assert report.removed["runs"] == 2999 and report.pages_returned > 0
    assert after < before / 5, (before, after)


def test_a_dry_run_changes_nothing_and_says_what_a_prune_does(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    for number in range(12):
        add_run(path, f"run-{number:02d}", DAY + number)
    add_run(path, "unknown", DAY + 50, send=("unknown", None))
    SlotLog(path).skipped("pb", [DAY, DAY + 1, DAY + 2], "missed: test")
    db = connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    fingerprint = digest(path)
    reader = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    dry = Pruner(reader, HORIZON, now=NOW, dry_run=True).run()
    reader.close()
    assert digest(path) == fingerprint
    assert read_horizon(sqlite3.connect(path)) is None
    assert "would remove" in dry.lines()[0]
    real = prune(path)
    assert dry.removed == real.removed
    assert dry.kept == real.kept


def test_slot_records_go_with_their_runs_and_the_newest_stays(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    add_run(path, "old", DAY)
    add_run(path, "kept", DAY + 1, send=("unknown", None))
    add_run(path, "newest", DAY + 2)
    slots = SlotLog(path, clock=lambda: DAY)
    slots.skipped("pb", [DAY - 60, DAY - 30], "missed: test")
    for run_id, slot in (("old", DAY), ("kept", DAY + 1), ("newest", DAY + 2)):
        slots.started("pb", slot, run_id, 0.0)
    slots.skipped("other", [DAY - 5], "overlap: test")  # the newest (only) slot of "other"
    report = prune(path)
    left = {
        (record.playbook, record.slot) for name in ("pb", "other") for record in slots.history(name)
    }
    slots.close()
    assert left == {("pb", DAY + 1), ("pb", DAY + 2), ("other", DAY - 5)}
    assert report.removed["slots"] == 3
    assert report.kept["latest_slot"] == 2 and report.kept["run_kept"] == 1


def test_the_horizon_refuses_older_slots_and_never_moves_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    add_run(path, "a", DAY)
    add_run(path, "b", DAY + 1)
    prune(path)
    prune(path, before=HORIZON - DAY)  # an older horizon later: the remembered one stays
    with Ledger(path) as ledger:
        horizon = ledger.horizon()
    assert horizon is not None and horizon.before == HORIZON and horizon.runs == 1
    problem = slot_problem(horizon, HORIZON - 60)
    assert problem is not None and "prune horizon" in problem and "not run again" in problem
    assert slot_problem(horizon, HORIZON) is None
    assert slot_problem(None, 0.0) is None


def test_a_ledger_without_incremental_vacuum_says_how_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    legacy = sqlite3.connect(path)  # a ledger created before retention existed
    legacy.execute("PRAGMA auto_vacuum=NONE")
    legacy.execute("CREATE TABLE placeholder (x)")  # the file has pages: no auto_vacuum
    legacy.execute("DROP TABLE placeholder")  # and no table a ledger lacks
    legacy.close()
    add_run(path, "a", DAY)
    add_run(path, "b", DAY + 1)
    report = prune(path)
    assert report.removed["runs"] == 1 and not report.auto_vacuum
    assert "`waiaas-run ledger vacuum`" in "\n".join(report.lines())


def test_a_ledger_from_before_version_4_is_pruned_through_its_new_indexes(tmp_path: Path) -> None:
    """A version-2 ledger that serve wrote slots into: the dry run reads it as it is
    (read-only, no index added), the prune adds the slot index it walks by."""
    path = tmp_path / "ledger.sqlite3"
    add_run(path, "a", DAY)
    add_run(path, "b", DAY + 1)
    SlotLog(path, clock=lambda: DAY).skipped("pb", [DAY - 60, DAY - 30], "missed: test")
    with sqlite3.connect(path) as db:
        for index in ("runs_by_start", "sends_by_time", "slots_by_time"):
            db.execute(f"DROP INDEX {index}")
        db.execute("PRAGMA user_version = 2")
    reader = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    dry = Pruner(reader, HORIZON, now=NOW, dry_run=True, batch=1).run()
    reader.close()
    assert dry.removed["runs"] == 1 and dry.removed["slots"] == 1  # the newest slot stays
    report = prune(path, batch=1)
    assert report.removed == dry.removed
    with sqlite3.connect(path) as db:
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"runs_by_start", "sends_by_time", "slots_by_time"} <= indexes
