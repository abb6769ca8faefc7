"""What an audit's own work costs as the ledger grows (its HTTP reads aside). Not collected
by pytest (bench_*.py); run it by hand:

    .venv/bin/python tests/benchmarks/bench_audit.py [--sizes 0,10000,100000] [--repeats 9]

Each ledger holds N old sends (a year ago, settled) and one day of sends of one wallet
(``--day`` of them, default 100, each with its transaction); the wallet's list read is
those transactions plus 10 foreign ones. Timed, the median of ``--repeats``, in this
process:

* audit: what an audit does besides HTTP — the sends it judges read from the ledger (the
  day, and the unsettled ones of any age), the claimed ids, and the judging;
* all sends: reading every send of the ledger instead (what a first version did).

The floor is the audit of the ledger with no old sends (N = 0); the goal: the audit does
not grow with the ledger's history (serve runs it on its event loop). Always exits 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from runner.client import Transaction
from runner.engine.audit import _sends_to_judge
from runner.ledger import Ledger
from runner.ledger.audit import judge_wallet
from runner.ledger.connection import connect

WALLET = "01a2139f-b3b6-7cd7-9ed3-a5759189c52d"
TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
NOW = 1_800_000_000.0
DAY = 86_400.0


def tx_id(at: float) -> str:
    """A UUIDv7 for ``at`` (milliseconds in its top 48 bits), as the daemon makes them."""
    return str(uuid.UUID(int=(int(at * 1000) << 80) | (7 << 76) | (2 << 62) | 1))


def build(path: Path, old: int, day: int) -> list[Transaction]:
    Ledger(path).close()
    db = connect(path)
    db.execute("BEGIN")
    rows = []
    for number in range(old + day):
        recent = number >= old
        at = NOW - DAY / 2 + number if recent else NOW - 365 * DAY + number
        amount = str(1_000 + number)
        body = {"type": "TRANSFER", "to": TO, "amount": amount, "network": "ethereum-sepolia"}
        request = json.dumps({**body, "walletId": WALLET})
        rows.append(
            (f"p/r{number}/s", f"r{number}", "p", "s", WALLET, "ethereum-sepolia", TO, amount)
        )
        rows[-1] = (*rows[-1], "ETH", request, "accepted", tx_id(at), "CONFIRMED", None, at, at)
    db.executemany(f"INSERT INTO sends VALUES ({', '.join('?' * 16)})", rows)
    db.execute("COMMIT")
    db.close()
    listed = [
        Transaction.model_validate(
            {
                "id": row[11],
                "walletId": WALLET,
                "type": "TRANSFER",
                "status": "CONFIRMED",
                "network": "ethereum-sepolia",
                "toAddress": TO,
                "amount": row[7],
                "createdAt": int(row[14]),
            }
        )
        for row in rows[old:]
    ]
    for number in range(10):
        at = NOW - 60 * number
        listed.append(
            Transaction.model_validate(
                {
                    "id": tx_id(at + 0.5),
                    "walletId": WALLET,
                    "type": "TRANSFER",
                    "status": "CONFIRMED",
                    "toAddress": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
                    "amount": "7",
                    "createdAt": int(at),
                }
            )
        )
    return listed


def median_ms(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,10000,100000")
    parser.add_argument("--day", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"command: .venv/bin/python tests/benchmarks/bench_audit.py --sizes {args.sizes} "
        f"--day {args.day} --repeats {args.repeats}"
    )
    floor: float | None = None
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"ledger-{size}.sqlite3"
            listed = build(path, size, args.day)
            with Ledger(path) as ledger:

                def audit_work(ledger: Ledger = ledger, listed: list[Transaction] = listed) -> int:
                    sends = _sends_to_judge(ledger, NOW - DAY - 600)
                    judged = judge_wallet(
                        WALLET,
                        listed,
                        [send for send in sends if send.wallet_id == WALLET],
                        claimed=ledger.claimed_among(tx.id for tx in listed),
                        looked_up={},
                        since=NOW - DAY,
                        near=600.0,
                        in_flight_since=NOW - 300,
                    )
                    assert len(judged.findings) == 10, judged.findings
                    return len(judged.findings)

                audit_ms = median_ms(audit_work, args.repeats)
                all_ms = median_ms(ledger.sends, args.repeats)
            floor = audit_ms if floor is None else floor
            print(
                f"old sends {size:>7}: audit {audit_ms:8.1f} ms ({audit_ms / floor:4.1f}x the "
                f"floor)   reading all sends {all_ms:8.1f} ms"
            )


if __name__ == "__main__":
    main()
