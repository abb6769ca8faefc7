"""Helpers for ledger fault tests: a ledger with history, and a page of it overwritten."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from runner.client import TransferRequest
from runner.ledger import Ledger, StepRecord

PAGE = 4096
BTREES = [
    "runs",
    "sqlite_autoindex_runs_1",
    "runs_by_playbook",
    "steps",
    "sqlite_autoindex_steps_1",
    "sends",
    "sqlite_autoindex_sends_1",
    "sqlite_autoindex_sends_2",
    "sends_by_symbol",
    "sends_by_state",
    "sends_by_run",
]


def fill(path: Path, runs: int = 60, playbook: str = "history") -> None:
    """``runs`` finished runs of a playbook that reads, sends and waits (like a cron job)."""
    clock = iter(range(1_700_000_000, 1_800_000_000, 60))
    with Ledger(path, clock=lambda: float(next(clock))) as ledger:
        for number in range(runs):
            run_id = f"20261101T{number:06d}Z-{number:06x}"
            ledger.begin_run(playbook, run_id)
            output = {"sent": True, "id": f"tx-{number}", "memo": "x" * 60}
            ledger.save_steps(
                [StepRecord(step, "ok", output, None, 1.0, 2.0) for step in ("a", "b", "c")],
                run_id,
            )
            key = f"{playbook}/{run_id}/fund"
            request = TransferRequest(
                to="0x7099",
                raw=1000,
                memo="m" * 80,
                network="ethereum-sepolia",
                wallet_id="w-1",
                symbol="ETH",
            )
            ledger.intend_send(
                key=key,
                run_id=run_id,
                playbook=playbook,
                step_id="fund",
                request=request,
            )
            ledger.mark_accepted(key, f"01a2139f-0000-7000-8000-{number:012d}", "CONFIRMED")
            ledger.finish_run(run_id, "ok", 0)


def pages_of(path: Path, btree: str) -> list[tuple[int, str]]:
    """(page number, path in the b-tree: "/" is the root) of every page of ``btree``."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT pageno, path FROM dbstat WHERE name = ? ORDER BY path", (btree,)
        ).fetchall()
    return [(int(number), str(where)) for number, where in rows]


def newest_leaf(path: Path, btree: str) -> int:
    """The page a b-tree's newest entries (and next inserts) live in: its rightmost leaf."""
    pages = pages_of(path, btree)
    return max(pages, key=lambda page: page[1])[0]


def damage(path: Path, page: int, seed: int = 0) -> None:
    """Overwrite one 4 KiB page with garbage, as a failing disk or a bad copy would."""
    garbage = random.Random(seed).randbytes(PAGE)
    with path.open("r+b") as file:
        file.seek((page - 1) * PAGE)
        file.write(garbage)
