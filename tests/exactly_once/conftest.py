"""In-process exactly-once runs: a restartable sandbox, fault hooks, the ledger's view.

``harness.run(body)`` goes through :func:`runner.engine.launch.launch` as the CLI does, with
a client whose retry sleeps are instant (but recorded, and held while the daemon is being
restarted) and whose requests can trigger faults the sandbox cannot inject itself (a
refused connection, a token expiring right before a call).
"""

from __future__ import annotations

import asyncio
import fnmatch
import socket
import textwrap
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import runner.engine.launch
from runner.client import RetryPolicy, WAIaaSClient
from runner.engine.launch import LaunchOptions, launch
from runner.engine.results import RunResult
from runner.ledger import Ledger, SendIntent
from runner.playbook import load_playbook
from runner.sandbox import Clock, Sandbox
from runner.sandbox.fixture import Fixture, Timings, load_fixture
from tests.engine.conftest import Collector
from tests.exactly_once.proxy import ManglingProxy

NAME = "exactly-once"
HEAD = f"""\
version: 1
name: {NAME}
env:
  WAIAAS_URL: ~
  WAIAAS_SESSION_TOKEN: ~
daemon:
  url: "${{{{ env.WAIAAS_URL }}}}"
  token: "${{{{ env.WAIAAS_SESSION_TOKEN }}}}"
  network: ethereum-sepolia
wallets:
  treasury: {{ name: treasury, network: ethereum-sepolia }}
  agent: {{ name: agent, network: ethereum-sepolia }}
"""
# An address outside the fixture's wallets (allow_to tests).
STRANGER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def fast_fixture() -> Fixture:
    """The default fixture, with transactions confirming in a few hundredths of a second."""
    fixture = load_fixture()
    timings = Timings(pipeline_seconds=0.01, execute_seconds=0.01, confirm_seconds=0.05)
    return fixture.model_copy(update={"timings": timings})


def playbook_text(body: str, name: str = NAME) -> str:
    return HEAD.replace(f"name: {NAME}", f"name: {name}") + textwrap.dedent(body)


def dead_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class GatedSleep:
    """The retry policy's sleep: records each delay, never waits, except while the daemon
    is down for a restart (a retry then resumes once it is back, like a real backoff)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.open = asyncio.Event()
        self.open.set()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self.open.wait()


@dataclass
class RequestHook:
    """Runs ``action`` on the next ``times`` requests matching ``method`` and ``path`` (a
    glob), right before they leave; ``action`` may rewrite the request."""

    method: str
    path: str
    action: Callable[[httpx.Request], None]
    times: int = 1

    def __call__(self, request: httpx.Request) -> None:
        matching = request.method == self.method and fnmatch.fnmatchcase(
            request.url.path, self.path
        )
        if self.times and matching:
            self.times -= 1
            self.action(request)


class Harness:
    """A sandbox with a state file (so it can be restarted on the same port and state),
    a ledger, and runs of small playbooks through ``launch``."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp_path = tmp_path
        self.state = tmp_path / "ledger.sqlite3"
        self.sandbox_state = tmp_path / "sandbox.sqlite3"
        self.fixture = fast_fixture()
        self.sandbox = Sandbox(port=0, state=self.sandbox_state, fixture=self.fixture)
        self.retry_sleep = GatedSleep()
        self.client_timeout = 30.0
        self.hooks: list[RequestHook] = []
        self.token: str | None = None  # None: the sandbox's ready-line token
        self._http_clients: list[httpx.AsyncClient] = []
        self._count = 0
        monkeypatch.setattr(runner.engine.launch, "WAIaaSClient", self._client)

    def _client(
        self,
        base_url: str,
        token: str,
        *,
        retry_policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        http_client: httpx.AsyncClient | None = None,  # serve's shared pool; not used here
    ) -> WAIaaSClient:
        async def on_request(request: httpx.Request) -> None:
            for hook in self.hooks:
                hook(request)

        http = httpx.AsyncClient(timeout=timeout, event_hooks={"request": [on_request]})
        self._http_clients.append(http)
        return WAIaaSClient(
            base_url, token, retry_policy=retry_policy, timeout=timeout, http_client=http
        )

    async def start(self) -> None:
        await self.sandbox.start()

    async def close(self) -> None:
        for http in self._http_clients:
            await http.aclose()
        await self.sandbox.close()

    async def restart(self) -> None:
        """Stop the daemon and start a new one on the same port and state file; retries
        that fail meanwhile wait until it is back."""
        port = int(self.sandbox.url.rsplit(":", 1)[1])
        self.retry_sleep.open.clear()
        await self.sandbox.close()
        self.sandbox = Sandbox(
            port=port, state=self.sandbox_state, fixture=self.fixture, clock=Clock()
        )
        await self.sandbox.start()
        self.retry_sleep.open.set()

    def write(self, body: str, name: str = NAME) -> Path:
        self._count += 1
        path = self.tmp_path / f"playbook-{self._count}.yaml"
        path.write_text(playbook_text(body, name), encoding="utf-8")
        return path

    def options(self, **overrides: Any) -> LaunchOptions:
        values: dict[str, Any] = {
            "daemon_url": self.sandbox.url,
            "state": self.state,
            "environ": {
                "WAIAAS_SESSION_TOKEN": self.token or self.sandbox.token,
                "XDG_CONFIG_HOME": str(self.tmp_path / "config"),  # never the user's config
            },
            "retry_policy": RetryPolicy(sleep=self.retry_sleep),
            "request_timeout": self.client_timeout,
        }
        return LaunchOptions(**(values | overrides))

    async def run(
        self, body: str, *, name: str = NAME, **overrides: Any
    ) -> tuple[RunResult, Collector]:
        path = self.write(body, name)
        return await self.run_file(path, **overrides)

    async def run_file(self, path: Path, **overrides: Any) -> tuple[RunResult, Collector]:
        reporter = Collector()
        result = await launch(load_playbook(path), path, "run", self.options(**overrides), reporter)
        assert reporter.result is result
        return result, reporter

    # -- what the daemon and the ledger hold ---------------------------------------------
    def tx_count(self) -> int:
        return self.sandbox.transaction_count()

    def tx_ids(self) -> list[str]:
        treasury = self.sandbox.wallet("treasury")["id"]
        return [tx.id for tx in self.sandbox.core.store.list_txs(treasury, 100, None)]

    def sends(self, name: str = NAME) -> list[SendIntent]:
        with Ledger(self.state) as ledger:
            return ledger.sends(playbook=name)


@pytest.fixture
async def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    running = Harness(tmp_path, monkeypatch)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def proxy(harness: Harness) -> AsyncIterator[ManglingProxy]:
    """A mangling proxy in front of the harness's sandbox (pass ``daemon_url=proxy.url``)."""
    port = int(harness.sandbox.url.rsplit(":", 1)[1])
    async with ManglingProxy(port) as running:
        yield running


async def no_wait(seconds: float) -> None:
    """``LaunchOptions.sleep`` for runs whose waits (reconcile grace, resume) are not the
    point of the test."""
    return None


def reason(result: RunResult, step_id: str) -> str:
    found = next(s for s in result.steps if s.step_id == step_id)
    return found.reason or ""
