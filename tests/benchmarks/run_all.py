"""Every performance figure of issue #13, each a ratio against its floor measured in the
same run. Not collected by pytest; run it by hand:

    .venv/bin/python tests/benchmarks/run_all.py [--repeats 10] [--validate-repeats 3]

1. one-shot run: ``waiaas-run run --output json`` of a 1-step ``balance`` playbook as a
   whole cold process, against a script that imports httpx and makes the same GET
   (wall time, CPU time and peak RSS of each process; CPU time is the steadier figure
   on a shared machine, where wall time also measures the neighbours); and, to say where
   the gap comes from, a third script on the fixed stack (async httpx, Pydantic, PyYAML,
   click, sqlite3) making the same GET and validating it with one small model;
2. ``waiaas-run validate --output json`` of 1,000 playbooks, against a process that
   parses the same files with PyYAML's pure-Python ``yaml.SafeLoader``;
3. the 100-step read-only playbook in-process (``bench_engine.py``), against a bare
   keep-alive httpx loop making the same requests.

The two sides of each figure alternate (the order flips every repeat) against one sandbox
process (in memory, rate limits off); each figure is the median with min and max, and the
ratio is of the medians. Always exits 0: this is a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_engine  # the directory above is not a package: found through sys.path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [
    ROOT / "playbooks" / "approvals-backlog.yaml",
    ROOT / "playbooks" / "keep-agent-funded.yaml",
    ROOT / "playbooks" / "nightly-sweep.yaml",
    ROOT / "examples" / "quickstart.yaml",
]
GOALS = {
    "one-shot wall": 1.5,
    "one-shot CPU (user+sys)": 1.5,
    "one-shot peak RSS": 1.3,
    "validate 1,000": 1.0,
    "validate 1,000 CPU (user+sys)": 1.0,
    "engine": 1.10,
}
BARE = """\
import os, sys
import httpx
url, token, wallet = os.environ["WAIAAS_URL"], os.environ["WAIAAS_SESSION_TOKEN"], sys.argv[1]
with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
    answer = client.get(
        url + "/v1/wallet/balance", params={"walletId": wallet, "network": "ethereum-sepolia"}
    )
    answer.raise_for_status()
    print(answer.text)
"""
# The libraries the runner is built on, as the user fixed them (async httpx, Pydantic,
# PyYAML, click, sqlite3), doing the same GET and validating the answer with one small
# model: what any runner on this stack pays before its own first line. Not a goal floor;
# it says how much of the one-shot gap is the stack and how much is the runner.
STACK = """\
import asyncio, os, sqlite3, sys
import click, httpx, pydantic, yaml
url, token, wallet = os.environ["WAIAAS_URL"], os.environ["WAIAAS_SESSION_TOKEN"], sys.argv[1]
class Balance(pydantic.BaseModel):
    balance: str
    decimals: int
    symbol: str
async def main():
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.get(
            url + "/v1/wallet/balance", params={"walletId": wallet, "network": "ethereum-sepolia"}
        )
        answer.raise_for_status()
        print(Balance.model_validate(answer.json()).model_dump_json())
sqlite3.connect(":memory:").execute("PRAGMA journal_mode=WAL")
yaml.load("steps: []", Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
asyncio.run(main())
"""
SAFE_LOAD = """\
import pathlib, sys
import yaml
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.yaml")):
    yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
"""
ONE_SHOT = """\
version: 1
name: one-shot
daemon:
  url: "${{{{ env.WAIAAS_URL }}}}"
  token: "${{{{ env.WAIAAS_SESSION_TOKEN }}}}"
  network: ethereum-sepolia
wallets:
  treasury: {{ id: "{wallet}", network: ethereum-sepolia }}
steps:
  - id: b
    balance: {{ wallet: treasury }}
"""

Sample = tuple[float, float, float]  # (wall seconds, peak RSS in MiB, CPU seconds)
TIME = "/usr/bin/time"  # GNU time, for the peak RSS of a child process


def process(command: list[str], env: dict[str, str]) -> Sample:
    """Runs one whole process; its wall time and peak resident memory.

    The memory comes from GNU time: Linux carries a process's peak RSS across fork and
    exec, so a child forked straight from this (large) process would report ours.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.perf_counter()
        done = subprocess.run(
            [TIME, "-f", "%M %U %S", "-o", rss.name, *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{command[:4]} exited {done.returncode}: {done.stderr[-500:]!r}")
        peak, user, system = rss.read().split()[-3:]
        return wall, int(peak) / 1024, float(user) + float(system)


def alternate(
    sides: dict[str, Callable[[], Sample]], repeats: int, warmups: int = 1
) -> dict[str, list[Sample]]:
    for _ in range(warmups):
        for run in sides.values():
            run()
    samples: dict[str, list[Sample]] = {name: [] for name in sides}
    names = list(sides)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            samples[name].append(sides[name]())
    return samples


def spread(values: list[float], unit: str, scale: float = 1.0) -> str:
    return (
        f"median {statistics.median(values) * scale:8.1f} {unit}  "
        f"(min {min(values) * scale:.1f}, max {max(values) * scale:.1f})"
    )


def figure(
    name: str,
    runner: list[float],
    floor: list[float],
    unit: str,
    scale: float,
    sides: tuple[str, str] = ("runner", "floor"),
) -> str:
    ratio = statistics.median(runner) / statistics.median(floor)
    print(f"  {sides[0]:7} {spread(runner, unit, scale)}")
    print(f"  {sides[1]:7} {spread(floor, unit, scale)}")
    if name in GOALS:
        verdict = "met" if ratio <= GOALS[name] else "NOT met"
        line = f"{name}: ratio {ratio:.2f} (goal <= {GOALS[name]}: {verdict})"
    else:
        line = f"{name}: ratio {ratio:.2f} (no goal: where the gap comes from)"
    print(f"  => {line}")
    return line


def one_shot(ready: dict[str, Any], directory: Path, repeats: int) -> list[str]:
    wallet = next(w["id"] for w in ready["wallets"] if w["name"] == "treasury")
    playbook = directory / "one-shot.yaml"
    playbook.write_text(ONE_SHOT.format(wallet=wallet), encoding="utf-8")
    env = {
        **os.environ,
        "WAIAAS_URL": ready["url"],
        "WAIAAS_SESSION_TOKEN": ready["token"],
        "WAIAAS_RUNNER_STATE": str(directory / "ledger.sqlite3"),
        "XDG_CONFIG_HOME": str(directory / "config"),
    }
    runner = [sys.executable, "-m", "runner", "run", "--output", "json", str(playbook)]
    bare = [sys.executable, "-c", BARE, wallet]
    stack = [sys.executable, "-c", STACK, wallet]
    samples = alternate(
        {
            "runner": lambda: process(runner, env),
            "bare": lambda: process(bare, env),
            "stack": lambda: process(stack, env),
        },
        repeats,
    )
    print(f"\n1. one-shot run of a 1-step balance playbook, whole process, {repeats} runs each")
    lines = []
    for index, name, unit, scale in (
        (0, "one-shot wall", "ms", 1000.0),
        (2, "one-shot CPU (user+sys)", "ms", 1000.0),
        (1, "one-shot peak RSS", "MiB", 1.0),
    ):
        print(f" {name}:")
        values = {side: [sample[index] for sample in runs] for side, runs in samples.items()}
        lines.append(figure(name, values["runner"], values["bare"], unit, scale))
    print(" the fixed stack (async httpx + Pydantic + PyYAML + click + sqlite3, same GET):")
    for index, what, unit, scale in (
        (2, "CPU (user+sys)", "ms", 1000.0),
        (1, "peak RSS", "MiB", 1.0),
    ):
        values = {side: [sample[index] for sample in runs] for side, runs in samples.items()}
        for top, bottom in (("stack", "bare"), ("runner", "stack")):
            print(f" {what}, {top} against {bottom}:")
            name = f"{top}/{bottom} {what}"
            lines.append(
                figure(name, values[top], values[bottom], unit, scale, sides=(top, bottom))
            )
    return lines


def playbooks(directory: Path, count: int) -> Path:
    """``count`` valid playbooks: the shipped ones in turn, each under its own name."""
    folder = directory / "validate"
    folder.mkdir()
    texts = [path.read_text(encoding="utf-8") for path in SHIPPED]
    for index in range(count):
        text = re.sub(
            r"^name: .*$",
            f"name: generated-{index}",
            texts[index % len(texts)],
            count=1,
            flags=re.M,
        )
        (folder / f"p{index:04d}.yaml").write_text(text, encoding="utf-8")
    return folder


def validate(directory: Path, repeats: int) -> list[str]:
    folder = playbooks(directory, 1000)
    env = dict(os.environ)
    runner = [sys.executable, "-m", "runner", "validate", "--output", "json", str(folder)]
    floor = [sys.executable, "-c", SAFE_LOAD, str(folder)]
    samples = alternate(
        {"runner": lambda: process(runner, env), "floor": lambda: process(floor, env)}, repeats
    )
    print(f"\n2. validate 1,000 playbooks, whole process, {repeats} runs each")
    print(" floor: the same files through yaml.load(..., Loader=yaml.SafeLoader), pure Python")
    walls = {name: [sample[0] for sample in values] for name, values in samples.items()}
    cpus = {name: [sample[2] for sample in values] for name, values in samples.items()}
    print(" wall:")
    lines = [figure("validate 1,000", walls["runner"], walls["floor"], "ms", 1000.0)]
    print(" CPU (user+sys):")
    name = "validate 1,000 CPU (user+sys)"
    return [*lines, figure(name, cpus["runner"], cpus["floor"], "ms", 1000.0)]


def engine(ready: dict[str, Any], directory: Path, repeats: int) -> list[str]:
    print(f"\n3. 100-step read-only playbook in-process (bench_engine.py), {repeats} runs each")
    runner, bare = asyncio.run(
        bench_engine.bench(ready, 100, repeats, directory / "engine-ledger.sqlite3")
    )
    return [
        figure(
            "engine",
            [wall for wall, _ in runner],
            [wall for wall, _ in bare],
            "ms",
            1000.0,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--validate-repeats", type=int, default=3)
    args = parser.parse_args()
    command = (
        "reproduce: .venv/bin/python tests/benchmarks/run_all.py "
        f"--repeats {args.repeats} --validate-repeats {args.validate_repeats}"
    )
    print(command)
    # as an installed wheel has it: pip compiles bytecode at install time, and this
    # environment may say PYTHONDONTWRITEBYTECODE, which would charge every run a compile
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "runner")], check=True)
    sandbox = [sys.executable, "-m", "runner", "sandbox", "--port", "0", "--no-rate-limits"]
    with tempfile.TemporaryDirectory(prefix="bench-all-") as name:
        directory = Path(name)
        server = subprocess.Popen(sandbox, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            ready = json.loads(server.stdout.readline())
            print(f"sandbox: separate process, in memory, rate limits off, {ready['url']}")
            lines = one_shot(ready, directory, args.repeats)
            lines += validate(directory, args.validate_repeats)
            lines += engine(ready, directory, args.repeats + 1)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print("\nsummary (" + command.removeprefix("reproduce: ") + "):")
    for line in lines:
        print(f"  {line}")


if __name__ == "__main__":
    main()
