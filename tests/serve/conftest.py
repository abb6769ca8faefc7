"""Serve in-process against the sandbox: short intervals, instant retry sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from runner.client import RetryPolicy
from runner.ledger.slots import SlotLog, SlotRecord
from runner.sandbox import Sandbox
from runner.serve.engine_adapter import LaunchOptions
from runner.serve.lifecycle import Serve, ServeOptions
from tests.exactly_once.conftest import fast_fixture, playbook_text

READ = """\
steps:
  - id: look
    balance: { wallet: treasury }
"""
SEND = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""


async def instant(seconds: float) -> None:
    await asyncio.sleep(0)


def write_playbook(folder: Path, name: str, schedule: str, body: str = READ) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(playbook_text(f"schedule: {schedule}\n{body}", name), encoding="utf-8")
    return path


class ServeHarness:
    def __init__(self, tmp_path: Path, sandbox: Sandbox) -> None:
        self.tmp_path = tmp_path
        self.sandbox = sandbox
        self.books = tmp_path / "playbooks"
        self.books.mkdir()
        self.state = tmp_path / "ledger.sqlite3"
        self.serve: Serve | None = None

    def options(self, **overrides: Any) -> ServeOptions:
        launch = LaunchOptions(
            daemon_url=self.sandbox.url,
            environ={
                "WAIAAS_SESSION_TOKEN": self.sandbox.token,
                "XDG_CONFIG_HOME": str(self.tmp_path / "config"),
            },
            retry_policy=RetryPolicy(max_retries=1, sleep=instant),
            request_timeout=2.0,
        )
        values: dict[str, Any] = {"paths": [self.books], "state": self.state, "launch": launch}
        return ServeOptions(**(values | overrides))

    async def start(self, **overrides: Any) -> Serve:
        self.serve = Serve(self.options(**overrides))
        await self.serve.start()
        return self.serve

    async def stop(self) -> int:
        assert self.serve is not None
        code = await self.serve.drain()
        self.serve = None
        return code

    def slots(self, name: str) -> list[SlotRecord]:
        log = SlotLog(self.state)
        try:
            return list(reversed(log.history(name, 1000)))
        finally:
            log.close()


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(port=0, fixture=fast_fixture()) as running:
        yield running


@pytest.fixture
async def harness(tmp_path: Path, sandbox: Sandbox) -> AsyncIterator[ServeHarness]:
    running = ServeHarness(tmp_path, sandbox)
    try:
        yield running
    finally:
        if running.serve is not None:
            await running.stop()
