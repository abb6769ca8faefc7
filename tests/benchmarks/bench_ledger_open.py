"""What the ledger check on open costs as the ledger grows. Not collected by pytest
(bench_*.py); run it by hand:

    .venv/bin/python tests/benchmarks/bench_ledger_open.py [--sizes 1000,10000,100000]

For each size N, a ledger holding N finished runs (each with three step records and one
accepted send, like a cron job that reads, sends and waits) is written straight with
SQL. Then, each the median of ``--repeats`` opens in this process:

* floor: opening the file as the runner does (WAL, schema present), no check;
* open: ``Ledger(path)``, i.e. the same plus the bounded check of the newest entries;
* full: ``check_file`` (``waiaas-run ledger check``), once.

The goal: the check on open adds a few milliseconds and does not grow with N.
Always exits 0: this is a measurement.
"""

from __future__ import annotations

import argparse
import functools
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from runner.ledger import Ledger
from runner.ledger.connection import connect
from runner.ledger.health import check_file

REQUEST = {
    "type": "TRANSFER",
    "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "amount": "1000000000000000",
    "network": "ethereum-sepolia",
    "walletId": "01a2139f-b3b6-7cd7-9ed3-a5759189c52d",
}


def build(path: Path, runs: int) -> None:
    Ledger(path).close()  # the schema, as the runner creates it
    db = connect(path)
    start = 1_700_000_000.0
    db.execute("BEGIN")
    for number in range(runs):
        run_id = f"2026{number:010d}-abcdef"
        playbook = f"playbook-{number % 10}"
        db.execute(
            "INSERT INTO runs VALUES (?, ?, NULL, ?, ?, 'ok', 0)",
            (run_id, playbook, start + number * 60, start + number * 60 + 1),
        )
        output = json.dumps({"sent": True, "id": f"tx-{number}", "status": "CONFIRMED"})
        for step in ("before", "fund", "settle"):
            db.execute(
                "INSERT INTO steps VALUES (?, ?, 'ok', ?, NULL, ?, ?)",
                (run_id, step, output, start + number * 60, start + number * 60),
            )
        db.execute(
            "INSERT INTO sends (key, run_id, playbook, step_id, wallet_id, network, "
            "to_address, amount_raw, symbol, request, state, tx_id, tx_status, intended_at, "
            "updated_at) VALUES (?, ?, ?, 'fund', ?, ?, ?, ?, 'ETH', ?, 'accepted', ?, "
            "'CONFIRMED', ?, ?)",
            (
                f"{playbook}/{run_id}/fund",
                run_id,
                playbook,
                REQUEST["walletId"],
                REQUEST["network"],
                REQUEST["to"],
                REQUEST["amount"],
                json.dumps(REQUEST),
                f"01a2139f-{number:04x}-7000-8000-{number:012d}"[-36:],
                start + number * 60,
                start + number * 60,
            ),
        )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def open_close(opener: Callable[[Path], sqlite3.Connection | Ledger], path: Path) -> None:
    opener(path).close()


def median_ms(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=41)
    args = parser.parse_args()
    print(
        f"command: .venv/bin/python tests/benchmarks/bench_ledger_open.py "
        f"--sizes {args.sizes} --repeats {args.repeats}"
    )
    print(
        f"{'runs':>8} {'file MB':>8} {'floor ms':>9} {'open ms':>8} {'check adds':>11} "
        f"{'full check s':>13}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(text) for text in args.sizes.split(",")):
            path = Path(folder) / f"ledger-{size}.sqlite3"
            build(path, size)
            floor = median_ms(functools.partial(open_close, connect, path), args.repeats)
            opened = median_ms(functools.partial(open_close, Ledger, path), args.repeats)
            started = time.perf_counter()
            report = check_file(path)
            full = time.perf_counter() - started
            assert report.ok, report.problems
            megabytes = path.stat().st_size / 1e6
            print(
                f"{size:>8} {megabytes:>8.1f} {floor:>9.2f} {opened:>8.2f} "
                f"{opened - floor:>8.2f} ms {full:>13.2f}"
            )


if __name__ == "__main__":
    main()
