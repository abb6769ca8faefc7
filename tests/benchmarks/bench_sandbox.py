"""How many requests per second the sandbox serves, so later benchmarks know it is not
their bottleneck. Not collected by pytest (bench_*.py); run it by hand:

    .venv/bin/python tests/benchmarks/bench_sandbox.py [--seconds 5] [--concurrency 32] [--state]

The sandbox runs as its own process (`waiaas-run sandbox --port 0 --no-rate-limits`),
loaded by keep-alive aiohttp connections from this process; both share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


async def _load(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    seconds: float,
    concurrency: int,
) -> tuple[int, int, list[float]]:
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.request(method, url, json=body) as response:
                await response.read()
                if response.status >= 400:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), errors, latencies


async def _bench(ready: dict[str, Any], seconds: float, concurrency: int) -> None:
    treasury = ready["wallets"][0]["id"]
    headers = {"Authorization": f"Bearer {ready['token']}"}
    cases = [
        (
            "GET /v1/wallet/balance",
            "GET",
            f"{ready['url']}/v1/wallet/balance?walletId={treasury}&network=ethereum-sepolia",
            None,
        ),
        (
            "POST /v1/transactions/send",
            "POST",
            f"{ready['url']}/v1/transactions/send",
            {
                "walletId": treasury,
                "type": "TRANSFER",
                "to": RECIPIENT,
                "amount": "1",
                "network": "ethereum-sepolia",
            },
        ),
        ("GET /health (no auth)", "GET", f"{ready['url']}/health", None),
    ]
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        for name, method, url, body in cases:
            await _load(session, method, url, body, 0.5, concurrency)  # warm up
            count, errors, latencies = await _load(session, method, url, body, seconds, concurrency)
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[int(len(latencies) * 0.99)] * 1000
            print(
                f"{name:30s} {count / seconds:8.0f} req/s   p50 {p50:6.2f} ms   "
                f"p99 {p99:6.2f} ms   errors {errors}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--state", action="store_true", help="use a SQLite state file (WAL)")
    args = parser.parse_args()
    command = [sys.executable, "-m", "runner", "sandbox", "--port", "0", "--no-rate-limits"]
    with tempfile.TemporaryDirectory() as directory:
        if args.state:
            command += ["--state", str(Path(directory) / "bench.sqlite3")]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            ready = json.loads(server.stdout.readline())
            print(
                f"sandbox {'with state file' if args.state else 'in memory'}, "
                f"{args.concurrency} connections, {args.seconds:g} s per case"
            )
            asyncio.run(_bench(ready, args.seconds, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
