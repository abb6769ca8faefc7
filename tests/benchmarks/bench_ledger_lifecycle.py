"""What a big ledger costs, and how big retention keeps it. Not collected by pytest
(bench_*.py); run it by hand:

    .venv/bin/python tests/benchmarks/bench_ledger_lifecycle.py [--runs 10000000]
        [--repeats 5] [--sim-rate 800] [--sim-days 30] [--retain-days 7] [--skip-sim]
        [--skip-cost] [--legacy 1000000]

1. Constant cost. Two ledgers are written straight with SQL (a recursive CTE, one
   transaction each; not through the runner): a fresh one (``--fresh`` runs, default 100)
   and a big one (``--runs``), both as serve at its ceiling leaves them: 800 one-step
   runs a minute over ten playbooks, each run with one step record, one confirmed send
   and one slot record. Against the sandbox (a separate process), on each ledger, in the
   same run of this script, alternating between the two:

   - serve: start to ``/-/ready`` answering 200 (ten scheduled playbooks named like the
     ledger's); then the median of ``/status`` and ``/metrics`` requests;
   - a one-shot run (``waiaas-run run`` of a one-step send playbook, a process each);
   - ``waiaas-run history`` (a process each).

   Printed: each median, and big / fresh (the goal: serve ready < 5 s, ratios <= 1.2).

2. Bounded size. A fresh ledger is fed ``--sim-rate`` runs a minute (same rows as above)
   for ``--sim-days`` simulated days, six hours at a time, and pruned after each six
   hours with ``--retain-days`` as serve's retention would; printed: the file size after
   each simulated day, and the longest single write transaction of the prunes.

3. ``--legacy N``: a ledger of N runs written before retention (schema version 2, no
   incremental vacuum): its first open by this version, ``ledger vacuum``, and a first
   ``ledger prune`` of its older half (with the longest lock of a batch); then, on what
   is left, ``ledger stats``, ``ledger backup`` and ``ledger export``.

Always exits 0: this is a measurement. The machine is shared: compare ratios, not times.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from runner.ledger import Ledger
from runner.ledger.retention import Pruner, file_bytes
from runner.ledger.slots import SlotLog

RATE = 800  # runs a minute: serve's ceiling
PLAYBOOKS = 10

_CONNECTION = """\
env:
  WAIAAS_SESSION_TOKEN: ~
daemon:
  url: "{url}"
  token: "${{{{ env.WAIAAS_SESSION_TOKEN }}}}"
  network: ethereum-sepolia
wallets:
  treasury: {{ name: treasury, network: ethereum-sepolia }}
"""

SERVED = (
    'version: 1\nname: bench-{n}\nschedule: {{ cron: "0 0 1 1 *", missed: skip }}\n'
    + _CONNECTION
    + "steps:\n  - id: look\n    balance: {{ wallet: treasury }}\n"
)

ONE_SHOT = (
    "version: 1\nname: bench-0\n"
    + _CONNECTION
    + "  agent: {{ name: agent, network: ethereum-sepolia }}\n"
    + 'steps:\n  - id: fund\n    send: {{ from: treasury, to: agent, amount: "0.000001 ETH" }}\n'
)

REQUEST = json.dumps(
    {
        "type": "TRANSFER",
        "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "amount": "1000000000000",
        "network": "ethereum-sepolia",
        "walletId": "01a2139f-b3b6-7cd7-9ed3-a5759189c52d",
    },
    sort_keys=True,
)


def add_runs(db: sqlite3.Connection, first: int, count: int, end: float, rate: float) -> None:
    """``count`` runs numbered from ``first``, ``rate`` a minute, the last at ``end``; each
    with a step, a confirmed send and a slot record. The caller holds a transaction."""
    params = {"first": first, "last": first + count - 1, "end": end, "gap": 60.0 / rate}
    numbered = (
        "WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
    )
    run_id = "printf('%014d-bench', i)"
    at = ":end - (:last - i) * :gap"
    playbook = f"'bench-' || (i % {PLAYBOOKS})"
    db.execute(
        numbered + f"INSERT INTO runs SELECT {run_id}, {playbook}, {at}, {at}, {at} + 0.2, "
        "'ok', 0 FROM n",
        params,
    )
    db.execute(
        numbered + f"INSERT INTO steps SELECT {run_id}, 'fund', 'ok', "
        '\'{"sent": true, "status": "PENDING", "id": "\' || printf(\'tx-%014d\', i) || \'"}\', '
        f"NULL, {at}, {at} + 0.2 FROM n",
        params,
    )
    db.execute(
        numbered + "INSERT INTO sends (key, run_id, playbook, step_id, wallet_id, network, "
        "to_address, amount_raw, symbol, request, state, tx_id, tx_status, intended_at, "
        f"updated_at) SELECT {playbook} || '/' || {run_id} || '/fund', {run_id}, {playbook}, "
        "'fund', '01a2139f-b3b6-7cd7-9ed3-a5759189c52d', 'ethereum-sepolia', "
        "'0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '1000000000000', 'ETH', :request, "
        f"'accepted', printf('tx-%014d', i), 'CONFIRMED', {at}, {at} + 0.2 FROM n",
        {**params, "request": REQUEST},
    )
    db.execute(
        numbered + "INSERT INTO slots (playbook, slot, run_id, outcome, lateness, recorded_at, "
        f"finished_at) SELECT {playbook}, {at}, {run_id}, 'ok', 0.01, {at}, {at} + 0.2 FROM n",
        params,
    )


def new_ledger(path: Path) -> sqlite3.Connection:
    Ledger(path).close()  # the schema, as the runner creates it
    SlotLog(path).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-262144")  # 256 MB: the indexes stay in memory
    return db


def build(path: Path, runs: int, ago: float = 3600) -> float:
    """``runs`` runs at RATE a minute, the last ``ago`` seconds before now (an hour: none
    of it is in the scheduler's way)."""
    started = time.perf_counter()
    db = new_ledger(path)
    now = time.time() - ago
    chunk = 1_000_000
    for first in range(0, runs, chunk):
        count = min(chunk, runs - first)
        db.execute("BEGIN")
        add_runs(db, first, count, now - (runs - first - count) * 60 / RATE, RATE)
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class Bench:
    def __init__(self, folder: Path, sandbox: dict[str, Any], repeats: int) -> None:
        self.folder = folder
        self.repeats = repeats
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WAIAAS_")}
        self.env |= {"XDG_CONFIG_HOME": str(folder), "WAIAAS_SESSION_TOKEN": sandbox["token"]}
        books = folder / "books"
        books.mkdir()
        for n in range(PLAYBOOKS):
            (books / f"bench-{n}.yaml").write_text(SERVED.format(n=n, url=sandbox["url"]))
        self.one_shot = folder / "one-shot.yaml"
        self.one_shot.write_text(ONE_SHOT.format(url=sandbox["url"]))

    def cli(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "runner", *args], env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]

    def serve(self, ledger: Path) -> dict[str, float]:
        port = free_port()
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "runner", "serve", str(self.folder / "books"),
             "--state", str(ledger), "--http", f"127.0.0.1:{port}", "--log-format", "json"],
            env=self.env, stdout=subprocess.DEVNULL,
            stderr=(self.folder / "serve.log").open("w"),
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            while True:
                if process.poll() is not None:
                    log = (self.folder / "serve.log").read_text()[-3000:]
                    raise RuntimeError(f"serve exited while starting:\n{log}")
                try:
                    if httpx.get(f"{base}/-/ready", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
            ready = time.perf_counter() - started
            with httpx.Client(base_url=base, timeout=60) as http:
                status = median_seconds(lambda: http.get("/status").raise_for_status(), 15)
                metrics = median_seconds(lambda: http.get("/metrics").raise_for_status(), 15)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        return {"serve ready": ready, "/status": status, "/metrics": metrics}

    def measure(self, ledger: Path) -> dict[str, float]:
        state = ("--state", str(ledger))
        figures = self.serve(ledger)
        figures["one-shot run"] = median_seconds(
            lambda: self.cli("run", str(self.one_shot), *state), self.repeats
        )
        figures["history"] = median_seconds(lambda: self.cli("history", *state), self.repeats)
        figures["history --playbook"] = median_seconds(
            lambda: self.cli("history", "--playbook", "bench-0", *state), self.repeats
        )
        return figures


def constant_cost(folder: Path, runs: int, fresh_runs: int, repeats: int) -> None:
    fresh, big = folder / "fresh.sqlite3", folder / "big.sqlite3"
    build(fresh, fresh_runs)
    took = build(big, runs)
    print(f"built {runs:,} runs in {took:.0f}s: {file_bytes(big) / 1e9:.2f} GB")
    sandbox_process = subprocess.Popen(
        [sys.executable, "-m", "runner", "sandbox", "--port", "0", "--no-rate-limits"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert sandbox_process.stdout is not None
        sandbox = json.loads(sandbox_process.stdout.readline())
        bench = Bench(folder, sandbox, repeats)
        rounds: dict[str, list[dict[str, float]]] = {"fresh": [], "big": []}
        for _ in range(2):  # alternating: the machine's load drifts
            rounds["fresh"].append(bench.measure(fresh))
            rounds["big"].append(bench.measure(big))
    finally:
        sandbox_process.terminate()
        sandbox_process.wait(timeout=10)
    print(f"{'':<20} {'fresh (' + str(fresh_runs) + ')':>16} {f'{runs:,} runs':>16} {'ratio':>7}")
    for name in rounds["fresh"][0]:
        small = min(figures[name] for figures in rounds["fresh"])
        large = min(figures[name] for figures in rounds["big"])
        print(f"{name:<20} {small * 1000:>13.0f} ms {large * 1000:>13.0f} ms {large / small:>7.2f}")


def bounded_size(folder: Path, rate: int, days: int, retain_days: int) -> None:
    path = folder / "simulated.sqlite3"
    db = new_ledger(path)
    step_hours = 6
    per_step = rate * 60 * step_hours
    start = time.time() - days * 86_400
    longest, number = 0.0, 0
    for step in range(days * 24 // step_hours):
        end = start + (step + 1) * step_hours * 3600
        db.execute("BEGIN")
        add_runs(db, number, per_step, end, rate)
        db.execute("COMMIT")
        number += per_step
        report = Pruner(db, end - retain_days * 86_400, now=end).run()
        longest = max(longest, report.longest_lock)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if (step + 1) % (24 // step_hours) == 0:
            runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
            day = (step + 1) * step_hours // 24
            print(
                f"  day {day:>2}: {file_bytes(path) / 1e9:6.2f} GB, {runs:,} runs "
                f"(last prune: {report.removed['runs']:,} runs in {report.batches} batches)",
                flush=True,
            )
    db.close()
    print(
        f"simulated {days} days at {rate} runs a minute, pruned every {step_hours} h to "
        f"{retain_days} days; the longest prune batch held the lock {longest * 1000:.0f} ms"
    )


def existing_ledger_costs(folder: Path, runs: int) -> None:
    """A ledger written before retention (schema version 2, no incremental vacuum): what
    its first open by this version, `ledger vacuum` and a first prune of half of it cost."""
    path = folder / "legacy.sqlite3"
    legacy = sqlite3.connect(path)
    legacy.execute("PRAGMA auto_vacuum=NONE")
    legacy.execute("CREATE TABLE placeholder (x)")  # the file has pages: no auto_vacuum
    legacy.execute("DROP TABLE placeholder")  # and no table a ledger lacks
    legacy.close()
    build(path, runs, ago=2 * 86_400)  # out of the daily-cap window
    with sqlite3.connect(path) as db:
        for index in ("runs_by_start", "sends_by_time", "slots_by_time"):
            db.execute(f"DROP INDEX {index}")
        db.execute("PRAGMA user_version = 2")
    size = file_bytes(path)
    started = time.perf_counter()
    Ledger(path).close()
    SlotLog(path).close()
    migrate = time.perf_counter() - started
    cli = [sys.executable, "-m", "runner", "ledger"]
    state = ("--state", str(path))
    started = time.perf_counter()
    subprocess.run([*cli, "vacuum", *state], check=True, capture_output=True)
    vacuum = time.perf_counter() - started
    half = 2 * 86_400 + runs / 2 * 60 / RATE  # the older half is this much older
    started = time.perf_counter()
    pruned = subprocess.run(
        [*cli, "prune", "--older-than", f"{half:.0f}s", *state],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    prune = time.perf_counter() - started
    timed = {}
    for name, args in {
        "ledger stats": ["stats", *state],
        "ledger backup (copy, then its full check)": [
            "backup",
            str(folder / "copy.sqlite3"),
            *state,
        ],
        "ledger export --format csv (every send)": ["export", *state],
        "ledger export --since 1h": ["export", "--since", "1h", *state],
    }.items():
        started = time.perf_counter()
        subprocess.run([*cli, *args], check=True, capture_output=True)
        timed[name] = time.perf_counter() - started
    print(f"a {runs:,}-run ledger from before retention ({size / 1e9:.2f} GB):")
    print(f"  first open by this version (adds the version-4 indexes): {migrate:.1f}s")
    print(f"  `ledger vacuum` (one-time rewrite, holds the write lock): {vacuum:.1f}s")
    print(f"  `ledger prune` of the older half: {prune:.1f}s")
    for line in pruned.stdout.splitlines():
        print(f"    {line}")
    print(f"after that prune ({file_bytes(path) / 1e9:.2f} GB):")
    for name, seconds in timed.items():
        print(f"  `{name}`: {seconds:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000_000)
    parser.add_argument("--fresh", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sim-rate", type=int, default=RATE)
    parser.add_argument("--sim-days", type=int, default=30)
    parser.add_argument("--retain-days", type=int, default=7)
    parser.add_argument("--skip-sim", action="store_true")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--legacy", type=int, default=0, help="runs of a pre-retention ledger")
    args = parser.parse_args()
    print(
        "reproduce: .venv/bin/python tests/benchmarks/bench_ledger_lifecycle.py "
        f"--runs {args.runs} --fresh {args.fresh} --repeats {args.repeats} "
        f"--sim-rate {args.sim_rate} --sim-days {args.sim_days} "
        f"--retain-days {args.retain_days}"
        + (" --skip-sim" if args.skip_sim else "")
        + (" --skip-cost" if args.skip_cost else "")
        + (f" --legacy {args.legacy}" if args.legacy else "")
    )
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as name:
        if not args.skip_cost:
            constant_cost(Path(name), args.runs, args.fresh, args.repeats)
        if args.legacy:
            existing_ledger_costs(Path(name), args.legacy)
        if not args.skip_sim:
            bounded_size(Path(name), args.sim_rate, args.sim_days, args.retain_days)


if __name__ == "__main__":
    main()
