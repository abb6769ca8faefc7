"""What the engine costs on top of the HTTP calls it makes. Not collected by pytest
(bench_*.py); run it by hand:

    .venv/bin/python tests/benchmarks/bench_engine.py [--steps 100] [--repeats 7]

A read-only playbook of N ``balance`` steps (alternating the treasury and agent wallets
of the default fixture) runs through ``launch()`` with a reporter that prints nothing and
a throw-away ledger. The same requests -- GET /v1/connect-info once (the engine resolves
wallet names with it), then the N GET /v1/wallet/balance with the same query -- are then
made by one bare keep-alive ``httpx.AsyncClient`` in a loop. Before timing, both are run
once with every request recorded, and the two request lists must be identical.

The sandbox runs as its own process (`waiaas-run sandbox --port 0 --no-rate-limits`),
so its CPU time is not counted in this process's event loop; both share the machine.
The goal (issue #5) is runner / bare <= 1.15. Always exits 0: this is a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from runner.engine.launch import LaunchOptions, launch
from runner.engine.results import RunResult, StepResult, StepStatus
from runner.playbook import Playbook, load_playbook_text

GOAL = 1.15
NETWORK = "ethereum-sepolia"  # the daemon needs the network for EVM wallets
WALLETS = ("treasury", "agent")  # the default session holds both, so each step names one
Request = tuple[str, str]  # (method, full URL with query)


class NullReporter:
    """Prints nothing, so the terminal is not part of what is measured."""

    def step_started(self, index: int, step_id: str, label: str) -> None:
        return None

    def step_finished(self, result: StepResult) -> None:
        return None

    def log(self, level: str, message: str) -> None:
        return None

    def run_finished(self, result: RunResult) -> None:
        return None


def playbook_text(steps: int) -> str:
    lines = [
        "version: 1",
        "name: bench-engine",
        "daemon:",
        '  url: "${{ env.WAIAAS_URL }}"',
        '  token: "${{ env.WAIAAS_SESSION_TOKEN }}"',
        f"  network: {NETWORK}",
        "wallets:",
        *(f"  {name}: {{ name: {name}, network: {NETWORK} }}" for name in WALLETS),
        "steps:",
    ]
    for index in range(steps):
        wallet = WALLETS[index % len(WALLETS)]
        lines.append(f"  - id: b{index + 1}")
        lines.append(f"    balance: {{ wallet: {wallet} }}")
    return "\n".join(lines) + "\n"


def bare_requests(ready: dict[str, Any], steps: int) -> list[tuple[str, dict[str, str]]]:
    """The engine's requests, as (path, params): connect-info, then one balance per step."""
    ids = {wallet["name"]: wallet["id"] for wallet in ready["wallets"]}
    requests: list[tuple[str, dict[str, str]]] = [("/v1/connect-info", {})]
    for index in range(steps):
        wallet_id = ids[WALLETS[index % len(WALLETS)]]
        requests.append(("/v1/wallet/balance", {"walletId": wallet_id, "network": NETWORK}))
    return requests


Timing = tuple[float, float]  # (wall seconds, this process's CPU seconds)


async def run_engine(playbook: Playbook, options: LaunchOptions, steps: int) -> Timing:
    started, cpu = time.perf_counter(), time.process_time()
    result = await launch(playbook, Path("bench_engine.yaml"), "run", options, NullReporter())
    timing = time.perf_counter() - started, time.process_time() - cpu
    ok = [step for step in result.steps if step.status is StepStatus.OK]
    if result.exit_code or len(ok) != steps:
        raise SystemExit(f"the engine run failed: {result.summary()} {result.error or ''}")
    return timing


async def run_bare(url: str, token: str, requests: list[tuple[str, dict[str, str]]]) -> Timing:
    # The client is built inside the timing because launch() builds the engine's too.
    started, cpu = time.perf_counter(), time.process_time()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30.0, headers=headers) as client:
        for path, params in requests:
            response = await client.get(url + path, params=params)
            if response.status_code != 200:
                raise SystemExit(f"bare GET {path} -> HTTP {response.status_code}")
    return time.perf_counter() - started, time.process_time() - cpu


async def client_construction(times: int = 20) -> float:
    """Median seconds to build and close a default httpx.AsyncClient (its SSL context
    mostly), a fixed cost inside the bare timing."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        await httpx.AsyncClient(timeout=30.0).aclose()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


@contextlib.contextmanager
def recording() -> Iterator[list[Request]]:
    """Record every request any httpx.AsyncClient sends (only for the check, not timed)."""
    seen: list[Request] = []
    original = httpx.AsyncClient.send

    async def send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> Any:
        seen.append((request.method, str(request.url)))
        return await original(self, request, **kwargs)

    httpx.AsyncClient.send = send  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        httpx.AsyncClient.send = original  # type: ignore[method-assign]


def _spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:8.1f} ms   "
        f"min {min(values) * 1000:8.1f} ms   max {max(values) * 1000:8.1f} ms"
    )


async def bench(
    ready: dict[str, Any], steps: int, repeats: int, ledger: Path
) -> tuple[list[Timing], list[Timing]]:
    """Measures and prints; returns the (engine, bare) timings for run_all.py."""
    url, token = ready["url"], ready["token"]
    started = time.perf_counter()
    playbook = load_playbook_text(playbook_text(steps), "bench_engine.yaml")
    loaded = (time.perf_counter() - started) * 1000
    print(f"playbook: {steps} balance steps, loaded in {loaded:.1f} ms (not timed below)")
    options = LaunchOptions(daemon_url=url, environ={"WAIAAS_SESSION_TOKEN": token}, state=ledger)
    requests = bare_requests(ready, steps)

    with recording() as by_engine:
        await run_engine(playbook, options, steps)
    with recording() as by_bare:
        await run_bare(url, token, requests)
    if by_engine != by_bare:
        extra = sorted(set(by_engine) ^ set(by_bare))[:5]
        raise SystemExit(
            f"the engine made {len(by_engine)} requests, the bare loop {len(by_bare)}; "
            f"they differ (first differences: {extra})"
        )
    print(f"work checked: both make the same {len(by_bare)} GETs in the same order")

    engine: list[Timing] = []
    bare: list[Timing] = []
    timed: dict[str, tuple[Callable[[], Awaitable[Timing]], list[Timing]]] = {
        "runner": (lambda: run_engine(playbook, options, steps), engine),
        "bare": (lambda: run_bare(url, token, requests), bare),
    }
    for _ in range(2):  # warm-up: imports, pydantic validators, sqlite pages, keep-alive
        for run, _unused in timed.values():
            await run()
    for repeat in range(repeats):
        order = ["runner", "bare"] if repeat % 2 == 0 else ["bare", "runner"]
        for name in order:
            run, into = timed[name]
            into.append(await run())

    construction = await client_construction()
    report(steps, len(requests), engine, bare, construction)
    return engine, bare


def report(
    steps: int, requests: int, engine: list[Timing], bare: list[Timing], construction: float
) -> None:
    walls = [wall for wall, _ in engine], [wall for wall, _ in bare]
    cpus = [cpu for _, cpu in engine], [cpu for _, cpu in bare]
    ratios = [e / b for e, b in zip(*walls, strict=True)]
    runner_wall, bare_wall = (statistics.median(values) for values in walls)
    ratio = runner_wall / bare_wall
    print(f"runner (launch, {steps} steps)  wall {_spread(walls[0])}")
    print(f"bare httpx ({requests} GETs)        wall {_spread(walls[1])}")
    print(
        f"CPU time of this process (median): runner {statistics.median(cpus[0]) * 1000:.1f} ms, "
        f"bare {statistics.median(cpus[1]) * 1000:.1f} ms (the sandbox's CPU is not counted)"
    )
    print(
        f"ratio runner/bare: {ratio:.3f} (of the medians; per-pair min {min(ratios):.3f}, "
        f"max {max(ratios):.3f}); engine overhead "
        f"{(runner_wall - bare_wall) / steps * 1000:.2f} ms per step"
    )
    print(
        f"the bare loop builds httpx's default client ({construction * 1000:.1f} ms, mostly "
        "loading the CA bundle); the runner's client skips the CA bundle for an http:// "
        "daemon (no TLS connection can happen), so it builds in about 1 ms"
    )
    verdict = "MET" if ratio <= GOAL else "NOT MET"
    print(f"goal ratio <= {GOAL}: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(
        "reproduce: .venv/bin/python tests/benchmarks/bench_engine.py "
        f"--steps {args.steps} --repeats {args.repeats}"
    )
    command = [sys.executable, "-m", "runner", "sandbox", "--port", "0", "--no-rate-limits"]
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as directory:
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            ready = json.loads(server.stdout.readline())
            print(f"sandbox: separate process, in memory, rate limits off, {ready['url']}")
            ledger = Path(directory) / "ledger.sqlite3"
            asyncio.run(bench(ready, args.steps, args.repeats, ledger))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
