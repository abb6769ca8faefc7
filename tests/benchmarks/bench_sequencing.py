"""What sequencing sends costs (issue #19): a run with N sends of one wallet takes N
pipeline turns, since each send waits until the daemon reports the previous one past
signing. Not collected by pytest; run it by hand:

    .venv/bin/python tests/benchmarks/bench_sequencing.py [--sends 10] [--repeats 5]

An in-process sandbox (default fixture, rate limits off, the signing race on) serves runs
of one playbook with N back-to-back sends from the treasury, through ``launch`` with the
real clock, for three signing times of the sandbox: 0 (the floor: every send is past
signing by the time it is asked about), 0.01 s (about the real daemon: its sends take
5-13 ms) and 0.1 s (the sandbox's default). For each it prints the run's wall time (median
of the repeats, with min and max), its ratio to the floor, and the mean pipeline turn (what
the step output's ``pipeline.waited`` says a send waited for the previous one).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from runner.client import RetryPolicy
from runner.engine.launch import LaunchOptions, launch
from runner.engine.results import RunResult, StepResult
from runner.playbook import load_playbook
from runner.sandbox import Sandbox

HEAD = """\
version: 1
name: bench-sequencing
env: { WAIAAS_URL: ~, WAIAAS_SESSION_TOKEN: ~ }
daemon: { url: "${{ env.WAIAAS_URL }}", token: "${{ env.WAIAAS_SESSION_TOKEN }}" }
wallets:
  treasury: { name: treasury, network: ethereum-sepolia }
  agent: { name: agent, network: ethereum-sepolia }
steps:
"""


class _Quiet:
    def step_started(self, index: int, step_id: str, label: str) -> None: ...
    def step_finished(self, result: StepResult) -> None: ...
    def log(self, level: str, message: str) -> None: ...
    def run_finished(self, result: RunResult) -> None: ...


async def _one_run(sandbox: Sandbox, folder: Path, sends: int, index: int) -> tuple[float, float]:
    """(wall seconds, mean pipeline wait of the sends after the first)."""
    path = folder / f"sends-{index}.yaml"
    steps = "".join(
        f'  - id: s{n}\n    send: {{ from: treasury, to: agent, amount: "1000 wei" }}\n'
        for n in range(sends)
    )
    path.write_text(HEAD + steps, encoding="utf-8")
    options = LaunchOptions(
        daemon_url=sandbox.url,
        state=folder / "ledger.sqlite3",
        environ={"WAIAAS_SESSION_TOKEN": sandbox.token, "XDG_CONFIG_HOME": str(folder)},
        retry_policy=RetryPolicy(),
    )
    started = time.perf_counter()
    result = await launch(load_playbook(path), path, "run", options, _Quiet())
    wall = time.perf_counter() - started
    assert result.exit_code == 0, [(s.step_id, s.reason) for s in result.steps]
    waits = [Decimal(str(s.output["pipeline"]["waited"])) for s in result.steps[1:]]
    sandbox.advance(5)  # let everything confirm before the next run
    failed = sandbox.core.store.count_txs().get("FAILED", 0)
    assert failed == 0, f"{failed} sends FAILED"
    return wall, float(statistics.mean(waits)) if waits else 0.0


async def _bench(sends: int, repeats: int) -> None:
    rows: list[tuple[float, list[float], list[float]]] = []
    for seconds in (0.0, 0.01, 0.1):
        async with Sandbox(port=0, rate_limits=False, pipeline_seconds=seconds) as sandbox:
            with tempfile.TemporaryDirectory() as folder:
                measured = [await _one_run(sandbox, Path(folder), sends, n) for n in range(repeats)]
        rows.append((seconds, [w for w, _ in measured], [t for _, t in measured]))
    floor = statistics.median(rows[0][1])
    print(f"{sends} sends of one wallet per run, {repeats} runs each (median (min, max)):")
    for seconds, walls, turns in rows:
        median = statistics.median(walls)
        print(
            f"  sandbox signing {seconds * 1000:5.0f} ms: run {median * 1000:7.1f} ms "
            f"({min(walls) * 1000:.1f}, {max(walls) * 1000:.1f}), {median / floor:5.2f}x the "
            f"floor; pipeline turn {statistics.mean(turns) * 1000:6.1f} ms a send"
        )
    print(
        f"command: .venv/bin/python tests/benchmarks/bench_sequencing.py --sends {sends} "
        f"--repeats {repeats}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(_bench(arguments.sends, arguments.repeats))


if __name__ == "__main__":
    main()
