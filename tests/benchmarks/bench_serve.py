"""`waiaas-run serve` under load: N one-read playbooks on a one-minute cron against the
sandbox with its rate limits ON (per IP, per session, transaction list). Not collected by
pytest (bench_*.py); run it by hand:

    .venv/bin/python tests/benchmarks/bench_serve.py [--playbooks 800 2000] [--minutes 1]

The sandbox and serve are separate processes; the playbooks are spread over enough
sessions that the per-session limit is not the bottleneck (at most 250 playbooks each).
Serve starts, and from the first minute boundary after it answers, ``--minutes`` slots are
measured; it is stopped with SIGTERM 58 s after the last one. Reported, from serve's ledger
and its /metrics:

- start lateness p50/p99: a run's start (admitted and recorded as started in the ledger)
  minus its nominal slot, from the ledger's slots (runs that ended ok);
- first-request lateness p50/p99: the run's first request leaving minus its nominal slot
  (waiting for the request budget, and for the CPU behind the other runs, included), from
  serve's one log line per fire;
- requests a minute serve sent, against the daemon's 1,000 a minute per IP (the floor
  measured here is the daemon's budget: the ratio is how much of it was used);
- 429 answers (from serve's /metrics: every 429 the sandbox answered went to serve);
- slots: done, skipped (with reason), still in flight at the stop, and any unaccounted;
- serve's peak RSS and CPU time (getrusage of the child), and the CPU it used from one
  second before the first slot to the stop, divided by the runs done (CPU per run).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

PER_SESSION = 250  # playbooks a session: 250 reads a minute < 285 (95 % of 300)

PLAYBOOK = """\
version: 1
name: {name}
schedule: {{ cron: "* * * * *" }}
daemon:
  url: "http://unused.invalid"
  token_file: tokens/{session}
  network: ethereum-sepolia
wallets:
  w: {{ name: treasury, network: ethereum-sepolia }}
steps:
  - id: look
    balance: {{ wallet: w }}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _start_sandbox(folder: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "sandbox", "--port", "0", "--rate-limits",
         "--state", str(folder / "sandbox.sqlite3")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def _write_playbooks(folder: Path, url: str, count: int) -> int:
    sessions = max(1, math.ceil(count / PER_SESSION))
    tokens = folder / "books" / "tokens"
    tokens.mkdir(parents=True)
    with httpx.Client(base_url=url, timeout=10) as http:
        for n in range(sessions):
            answer = http.post("/_sandbox/sessions", json={"wallets": ["treasury"]})
            answer.raise_for_status()
            (tokens / f"s{n}").write_text(answer.json()["token"] + "\n")
    for n in range(count):
        text = PLAYBOOK.format(name=f"bench-{n:04d}", session=f"s{n % sessions}")
        (folder / "books" / f"bench-{n:04d}.yaml").write_text(text)
    return sessions


def _metrics(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


def _slots(ledger: Path, first: float, last: float) -> list[tuple[str, float, str, float | None]]:
    db = sqlite3.connect(ledger)
    try:
        rows = db.execute(
            "SELECT playbook, slot, outcome, lateness FROM slots WHERE slot BETWEEN ? AND ?",
            (first, last),
        ).fetchall()
    finally:
        db.close()
    return [(str(a), float(b), str(c), None if d is None else float(d)) for a, b, c, d in rows]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _first_request_lateness(log_lines: list[str], first: float, last: float) -> list[float]:
    """From serve's one line per fire: slot to the run's first request leaving."""
    found = []
    for line in log_lines:
        if '"first_request_lateness"' not in line:
            continue
        fire = json.loads(line)
        slot = datetime.strptime(fire["slot"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if first <= slot.timestamp() <= last:
            found.append(float(fire["first_request_lateness"]))
    return found


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _wait_ready(port: int, serve: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert serve.poll() is None, "serve exited while starting"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/-/healthy", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("serve did not come up")


def measure(count: int, minutes: int, log_folder: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as name:
        folder = Path(name)
        sandbox, ready = _start_sandbox(folder)
        try:
            sessions = _write_playbooks(folder, ready["url"], count)
            port = _free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("WAIAAS_")}
            env["XDG_CONFIG_HOME"] = str(folder)
            started = time.time()
            serve = subprocess.Popen(
                [sys.executable, "-m", "runner", "serve", str(folder / "books"),
                 "--state", str(folder / "ledger.sqlite3"), "--daemon-url", ready["url"],
                 "--http", f"127.0.0.1:{port}", "--log-format", "json",
                 "--drain-timeout", "15s"],
                env=env, stdout=subprocess.DEVNULL,
                stderr=(folder / "serve.log").open("w"),
            )  # fmt: skip
            _wait_ready(port, serve)
            startup = time.time() - started
            # the first slot is the first minute boundary after serve is up (it schedules
            # from the next fire on: a slot before that was never due for it)
            now = time.time()
            first = now - now % 60 + 60
            last = first + 60 * (minutes - 1)
            time.sleep(max(0.0, first - 1 - time.time()))
            cpu_before = _cpu_seconds(serve.pid)
            time.sleep(max(0.0, last + 58 - time.time()))
            cpu_measured = _cpu_seconds(serve.pid) - cpu_before
            metrics = _metrics(port)
            serve.send_signal(signal.SIGTERM)
            _, status, usage = os.wait4(serve.pid, 0)
            serve.returncode = os.waitstatus_to_exitcode(status)
        finally:
            sandbox.kill()
            sandbox.wait()
        slots = _slots(folder / "ledger.sqlite3", first, last)
        log_lines = (folder / "serve.log").read_text().splitlines()
        if log_folder is not None:
            (log_folder / f"serve-{count}.log").write_text("\n".join(log_lines) + "\n")
    overload_lines = [line for line in log_lines if '"overloaded' in line]
    lateness = [late for _, _, outcome, late in slots if late is not None and outcome == "ok"]
    first_request = _first_request_lateness(log_lines, first, last)
    done = sum(1 for _, _, outcome, _ in slots if outcome == "ok")
    outcomes: dict[str, int] = {}
    for _, _, outcome, _ in slots:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    requests = metrics.get("waiaas_runner_requests_total", 0.0)
    cpu = usage.ru_utime + usage.ru_stime
    elapsed = time.time() - started
    report: dict[str, Any] = {
        "playbooks": count,
        "sessions": sessions,
        "startup_seconds": round(startup, 1),
        "slots_expected": count * minutes,
        "slots_recorded": len(slots),
        "outcomes": outcomes,
        "unaccounted": count * minutes - len(slots),
        "lateness_p50_s": round(statistics.median(lateness), 3) if lateness else None,
        "lateness_p99_s": round(_percentile(lateness, 0.99), 3) if lateness else None,
        "first_request_p50_s": round(statistics.median(first_request), 3)
        if first_request
        else None,
        "first_request_p99_s": round(_percentile(first_request, 0.99), 3)
        if first_request
        else None,
        "requests_per_minute": round(requests / minutes, 1),
        "daemon_ip_budget_used": f"{requests / minutes / 1000:.0%}",
        "rate_limited_429": metrics.get("waiaas_runner_rate_limited_total"),
        "overload_reported": bool(overload_lines and metrics.get("waiaas_runner_overloaded")),
        "demand_per_minute": metrics.get("waiaas_runner_request_demand_per_minute"),
        "budget_per_minute": metrics.get("waiaas_runner_request_budget_per_minute"),
        "serve_exit_code": serve.returncode,
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "cpu_seconds": round(cpu, 1),
        "cpu_seconds_measured_minutes": round(cpu_measured, 1),
        "cpu_ms_per_run_done": round(1000 * cpu_measured / done, 2) if done else None,
        "cpu_share_of_one_core": f"{cpu / elapsed:.0%}",
    }
    if overload_lines:
        report["overload_line"] = json.loads(overload_lines[0]).get("message")
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--playbooks", type=int, nargs="+", default=[800, 2000])
    parser.add_argument("--minutes", type=int, default=1)
    parser.add_argument("--logs", type=Path, help="keep serve's log here")
    args = parser.parse_args()
    command = "python tests/benchmarks/bench_serve.py --playbooks " + " ".join(
        str(n) for n in args.playbooks
    )
    results = [measure(count, args.minutes, args.logs) for count in args.playbooks]
    print(json.dumps({"command": f"{command} --minutes {args.minutes}", "runs": results}, indent=2))


if __name__ == "__main__":
    main()
