"""Runs through ``launch`` against a sandbox on a frozen clock with the signing race on
(issue #19): time moves only when the runner sleeps, so sends posted without waiting sit in
one instant and always collide, and a runner that waits is never flaky."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from runner.client import RetryPolicy
from runner.engine.launch import LaunchOptions, launch
from runner.engine.results import RunResult
from runner.ledger import Ledger, SendIntent
from runner.playbook import load_playbook
from runner.sandbox import Clock, Sandbox
from runner.sandbox.state import TxRow
from tests.engine.conftest import Collector
from tests.exactly_once.conftest import playbook_text

START = 1_800_000_000.0


class FrozenWorld:
    """One sandbox (default fixture: race on, 0.1 s of signing) and one ledger."""

    def __init__(self, tmp_path: Path, sandbox: Sandbox) -> None:
        self.tmp_path = tmp_path
        self.sandbox = sandbox
        self.state = tmp_path / "ledger.sqlite3"
        self.sleeps: list[float] = []
        self._count = 0

    @property
    def clock(self) -> Clock:
        assert isinstance(self.sandbox.clock, Clock)
        return self.sandbox.clock

    async def sleep(self, seconds: float) -> None:
        """The runner's waits move the sandbox clock instead of waiting."""
        self.sleeps.append(seconds)
        self.sandbox.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def options(self, **overrides: Any) -> LaunchOptions:
        values: dict[str, Any] = {
            "daemon_url": self.sandbox.url,
            "state": self.state,
            "environ": {
                "WAIAAS_SESSION_TOKEN": self.sandbox.token,
                "XDG_CONFIG_HOME": str(self.tmp_path / "config"),
            },
            "retry_policy": RetryPolicy(sleep=self.sleep),
            "sleep": self.sleep,
            "clock": self.clock,
        }
        return LaunchOptions(**(values | overrides))

    def write(self, body: str, name: str) -> Path:
        self._count += 1
        path = self.tmp_path / f"{name}-{self._count}.yaml"
        path.write_text(playbook_text(textwrap.dedent(body), name), encoding="utf-8")
        return path

    async def run_file(self, path: Path, **overrides: Any) -> tuple[RunResult, Collector]:
        reporter = Collector()
        result = await launch(load_playbook(path), path, "run", self.options(**overrides), reporter)
        return result, reporter

    async def run(self, body: str, name: str, **overrides: Any) -> tuple[RunResult, Collector]:
        return await self.run_file(self.write(body, name), **overrides)

    def txs(self, wallet: str = "treasury") -> list[TxRow]:
        """The wallet's transactions, oldest first, once everything had time to settle."""
        self.sandbox.advance(600)
        wallet_id = self.sandbox.wallet(wallet)["id"]
        return list(reversed(self.sandbox.core.store.list_txs(wallet_id, 1000, None)))

    def sends(self, name: str) -> list[SendIntent]:
        with Ledger(self.state) as ledger:
            return ledger.sends(playbook=name)


def output(result: RunResult, step_id: str) -> dict[str, Any]:
    return next(s for s in result.steps if s.step_id == step_id).output


def sends_body(count: int, amount: str = "0.001 ETH", prefix: str = "pay") -> str:
    """``count`` send steps from the treasury, one after the other, nothing in between."""
    lines = ["steps:"]
    for index in range(count):
        lines.append(f"  - id: {prefix}_{index}")
        lines.append(f'    send: {{ from: treasury, to: agent, amount: "{amount}" }}')
    return "\n".join(lines) + "\n"
