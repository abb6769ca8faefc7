"""What a send's ``max_per_day`` sums cost as the ledger's history grows. Not collected by
pytest (bench_*.py); run it by hand:

    .venv/bin/python tests/benchmarks/bench_limits.py [--sizes 10000,100000] [--repeats 201]

For each size N, a ledger holding N finished runs of ten playbooks, one send a minute
(so 1,440 sends in the last 24 h, 144 of them per playbook; ``bench_ledger_open.build``),
is written straight with SQL. Then, each the median of ``--repeats`` calls in this process:

* floor: reading one send by its key (a primary-key look-up, what every send does first);
* playbook cap: ``spent_since`` one playbook's sends of ETH on ethereum-sepolia, 24 h
  (a playbook's ``limits: max_per_day``, through ``sends_by_playbook``);
* config cap: ``spent_since`` every playbook's sends of ETH on ethereum-sepolia, 24 h
  (the runner config's ``max_per_day``, through ``sends_by_symbol``).

The goal: both sums cost what the day's sends cost, not what the history holds.
Always exits 0: this is a measurement.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
from pathlib import Path

import bench_ledger_open  # the directory above is not a package: found through sys.path
from bench_ledger_open import median_ms

from runner.ledger import Ledger

DAY = 24 * 60 * 60
START = 1_700_000_000.0  # bench_ledger_open.build's first run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=201)
    args = parser.parse_args()
    print(
        f"command: .venv/bin/python tests/benchmarks/bench_limits.py "
        f"--sizes {args.sizes} --repeats {args.repeats}"
    )
    print(
        f"{'runs':>8} {'floor ms':>9} {'playbook ms':>12} {'x floor':>8} "
        f"{'config ms':>10} {'x floor':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(text) for text in args.sizes.split(",")):
            path = Path(folder) / f"ledger-{size}.sqlite3"
            bench_ledger_open.build(path, size)
            now = START + size * 60
            with Ledger(path, clock=lambda now=now: now) as ledger:
                last = f"playbook-{(size - 1) % 10}"
                key = ledger.sends(playbook=last, run_id=f"2026{size - 1:010d}-abcdef")[0].key
                spent = functools.partial(
                    ledger.spent_since, "ETH", now - DAY, network="ethereum-sepolia"
                )
                assert spent(playbook="playbook-3") == 144 * 10**15
                assert spent() == 1440 * 10**15
                floor = median_ms(functools.partial(ledger.send, key), args.repeats)
                own = median_ms(functools.partial(spent, playbook="playbook-3"), args.repeats)
                every = median_ms(spent, args.repeats)
            print(
                f"{size:>8} {floor:>9.3f} {own:>12.3f} {own / floor:>8.1f} "
                f"{every:>10.3f} {every / floor:>8.1f}"
            )


if __name__ == "__main__":
    main()
