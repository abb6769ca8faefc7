"""Real processes: `waiaas-run sandbox` and `waiaas-run run`, as a user (or cron) starts them."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.exactly_once.conftest import playbook_text

# what the parent's environment must not leak into a runner process under test
_SCRUBBED = (
    "WAIAAS_URL",
    "WAIAAS_SESSION_TOKEN",
    "WAIAAS_RUNNER_STATE",
    "WAIAAS_RUNNER_CONFIG",
    "WAIAAS_RUNNER_FAILPOINT",
)


@dataclass
class Daemon:
    """A `waiaas-run sandbox` process and what its ready line said."""

    process: subprocess.Popen[str]
    url: str
    token: str
    wallets: list[dict[str, str]]

    def control(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0)

    def add_fault(self, **rule: Any) -> None:
        with self.control() as http:
            http.post("/_sandbox/faults", json=rule).raise_for_status()

    def tx_count(self) -> int:
        with self.control() as http:
            answer = http.get("/_sandbox/transactions/count")
            answer.raise_for_status()
            total: int = answer.json()["total"]
            return total

    def tx_ids(self) -> set[str]:
        treasury = next(w["id"] for w in self.wallets if w["name"] == "treasury")
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=10.0) as http:
            answer = http.get("/v1/transactions", params={"walletId": treasury, "limit": "100"})
            answer.raise_for_status()
            return {item["id"] for item in answer.json()["items"]}


@contextmanager
def sandbox_process(tmp_path: Path, *extra: str) -> Iterator[Daemon]:
    """``extra``: more `waiaas-run sandbox` options (e.g. ``--pipeline-seconds 0.5``)."""
    state = tmp_path / "sandbox.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "sandbox", "--port", "0", "--state", str(state), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "the sandbox printed nothing within 15 s"
        line = json.loads(process.stdout.readline())
        yield Daemon(process, line["url"], line["token"], line["wallets"])
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


class Runner:
    """Starts `waiaas-run run` processes on one playbook file and one ledger."""

    def __init__(self, daemon: Daemon, tmp_path: Path, body: str, name: str) -> None:
        self.daemon = daemon
        self.tmp_path = tmp_path
        self.ledger = tmp_path / "ledger.sqlite3"
        self.playbook = tmp_path / f"{name}.yaml"
        self.playbook.write_text(playbook_text(body, name), encoding="utf-8")

    def environ(self, failpoint: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env["WAIAAS_SESSION_TOKEN"] = self.daemon.token
        env["XDG_CONFIG_HOME"] = str(self.tmp_path / "config")  # never the user's config
        if failpoint is not None:
            env["WAIAAS_RUNNER_FAILPOINT"] = failpoint
        return env

    def args(self, *extra: str) -> list[str]:
        return [
            sys.executable, "-m", "runner", "run", "--daemon-url", self.daemon.url,
            "--state", str(self.ledger), "--output", "json", *extra, str(self.playbook),
        ]  # fmt: skip

    def start(self, *extra: str, failpoint: str | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.args(*extra),
            env=self.environ(failpoint),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *extra: str, failpoint: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.args(*extra),
            env=self.environ(failpoint),
            capture_output=True,
            text=True,
            timeout=60,
        )


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def json_events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
