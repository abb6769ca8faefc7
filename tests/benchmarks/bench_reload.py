"""How long a reload of N playbooks holds up serve's event loop (issue #21). Not collected
by pytest (bench_*.py); run it by hand:

    .venv/bin/python tests/benchmarks/bench_reload.py [--playbooks 2000] [--rounds 3]

Serve is started in-process on N hourly playbooks (nothing fires), then reloaded: once
with the files unchanged (a plain SIGHUP) and once with every file edited (every playbook
swapped). A ticker task asks to wake every 5 ms and records how late it woke (the loop's
lag: how long a slot due then would have waited). Each reload is done two ways in the same
run: as before (the playbooks parsed on the loop: ``load_catalog`` then the apply step,
which is what ``reload`` did) and as now (``await serve.reload()``: parsed in a worker
thread, applied on the loop). The floor is the ticker's worst lag with serve idle.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from runner.serve.catalog import load_catalog  # noqa: E402
from runner.serve.engine_adapter import LaunchOptions  # noqa: E402
from runner.serve.lifecycle import Serve, ServeOptions  # noqa: E402

PLAYBOOK = """\
version: 1
name: book-{index}
# edit {edit}
schedule: {{ interval: 1h }}
env:
  WAIAAS_SESSION_TOKEN: ~
daemon:
  url: "http://127.0.0.1:9"
  token: "${{{{ env.WAIAAS_SESSION_TOKEN }}}}"
  network: ethereum-sepolia
wallets:
  w: {{ name: treasury, network: ethereum-sepolia }}
steps:
  - id: look
    balance: {{ wallet: w }}
  - id: enough
    assert: "steps.look.raw > 0"
"""
TICK = 0.005


class Ticker:
    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + TICK
            await asyncio.sleep(TICK)
            self.worst = max(self.worst, loop.time() - due)


async def lag_of(action: object) -> tuple[float, float]:
    """The loop's worst lag while ``action`` (an awaitable factory) runs, and its time."""
    ticker = Ticker()
    task = asyncio.create_task(ticker.run())
    await asyncio.sleep(0.05)
    ticker.worst = 0.0
    started = time.perf_counter()
    await action()  # type: ignore[operator]
    took = time.perf_counter() - started
    await asyncio.sleep(0.05)
    task.cancel()
    return ticker.worst, took


def write_books(folder: Path, count: int, edit: int) -> None:
    for index in range(count):
        (folder / f"book-{index}.yaml").write_text(PLAYBOOK.format(index=index, edit=edit))


async def main(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        books = Path(tmp) / "books"
        books.mkdir()
        write_books(books, count, 0)
        launch = LaunchOptions(environ={"WAIAAS_SESSION_TOKEN": "bench-token"})
        serve = Serve(ServeOptions(paths=[books], state=Path(tmp) / "ledger", launch=launch))
        await serve.start()
        edit = 0

        async def idle() -> None:
            await asyncio.sleep(1.0)

        async def before() -> None:  # what reload did: parse and apply on the loop
            serve._apply(load_catalog([books]))

        async def now() -> None:
            await serve.reload()

        results: dict[str, list[tuple[float, float]]] = {}
        try:
            for _ in range(rounds):
                results.setdefault("idle (floor)", []).append(await lag_of(idle))
                for name, action in (("before", before), ("now", now)):
                    results.setdefault(f"{name}, files unchanged", []).append(await lag_of(action))
                    edit += 1
                    write_books(books, count, edit)
                    results.setdefault(f"{name}, every file edited", []).append(
                        await lag_of(action)
                    )
        finally:
            await serve.drain()
    floor = statistics.median(lag for lag, _ in results["idle (floor)"])
    print(f"reload of {count} playbooks, median of {rounds} rounds; loop lag sampled every 5 ms")
    print(f"{'case':<28} {'worst loop lag':>15} {'x floor':>8} {'reload took':>12}")
    for name, samples in results.items():
        lag = statistics.median(sample[0] for sample in samples)
        took = statistics.median(sample[1] for sample in samples)
        print(f"{name:<28} {lag * 1000:>12.1f} ms {lag / floor:>8.1f} {took:>10.2f} s")
    print(f"reproduce: .venv/bin/python tests/benchmarks/bench_reload.py --playbooks {count}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbooks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.playbooks, arguments.rounds))
