"""Running playbooks in-process against the sandbox daemon over real HTTP.

``engine.run(steps)`` goes through :func:`runner.engine.launch.launch` exactly like the CLI
(minus the terminal); ``engine.execute(steps)`` builds the ``Run`` itself so that
wait/pending polling "sleeps" by pushing the sandbox clock forward instead of waiting.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from runner.client import RetryPolicy, WAIaaSClient
from runner.engine.executor import execute
from runner.engine.launch import LaunchOptions, launch, new_run_id
from runner.engine.results import RunResult, StepResult, StepStatus
from runner.engine.scope import Mode, Run, RunScope
from runner.ledger import Ledger
from runner.playbook import load_playbook
from runner.sandbox import Sandbox

# The shared head of every test playbook: the default sandbox fixture's wallets and USDC.
HEAD = """\
version: 1
name: engine-test
env:
  WAIAAS_URL: ~
  WAIAAS_SESSION_TOKEN: ~
daemon:
  url: "${{ env.WAIAAS_URL }}"
  token: "${{ env.WAIAAS_SESSION_TOKEN }}"
  network: ethereum-sepolia
wallets:
  treasury: { name: treasury, network: ethereum-sepolia }
  agent: { name: agent, network: ethereum-sepolia }
tokens:
  USDC: { network: ethereum-sepolia, decimals: 6,
          address: "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238" }
"""


def playbook_text(body: str, head: str = HEAD) -> str:
    """``head`` plus ``body`` (dedented YAML holding ``steps:`` and perhaps vars/limits)."""
    return head + textwrap.dedent(body)


@dataclass
class Collector:
    """A reporter that keeps everything it is told."""

    started: list[str] = field(default_factory=list)
    finished: list[StepResult] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)
    result: RunResult | None = None

    def step_started(self, index: int, step_id: str, label: str) -> None:
        self.started.append(step_id)

    def step_finished(self, result: StepResult) -> None:
        self.finished.append(result)

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    def run_finished(self, result: RunResult) -> None:
        self.result = result


async def _no_wait(seconds: float) -> None:
    return None


class FakeSleep:
    """Records the waits asked for; with a sandbox, moves its clock instead of waiting."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self.sandbox = sandbox
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.sandbox is not None:
            self.sandbox.advance(seconds)


def step(result: RunResult, step_id: str) -> StepResult:
    return next(s for s in result.steps if s.step_id == step_id)


def statuses(result: RunResult) -> dict[str, StepStatus]:
    return {s.step_id: s.status for s in result.steps}


class Engine:
    """Writes playbooks under ``tmp_path`` and runs them against ``sandbox``."""

    def __init__(self, sandbox: Sandbox, tmp_path: Path) -> None:
        self.sandbox = sandbox
        self.tmp_path = tmp_path
        self.state = tmp_path / "ledger.sqlite3"
        self.retry_sleep = FakeSleep()
        self.retry_policy = RetryPolicy(sleep=self.retry_sleep)
        self._count = 0

    def write(self, body: str, head: str = HEAD) -> Path:
        self._count += 1
        path = self.tmp_path / f"playbook-{self._count}.yaml"
        path.write_text(playbook_text(body, head), encoding="utf-8")
        return path

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            "WAIAAS_URL": self.sandbox.url,
            "WAIAAS_SESSION_TOKEN": self.sandbox.token,
            "XDG_CONFIG_HOME": str(self.tmp_path / "config"),  # never the user's config file
            **(extra or {}),
        }

    async def run(
        self,
        body: str,
        mode: Mode = "run",
        *,
        head: str = HEAD,
        variables: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        run_id: str | None = None,
        timeout: float | None = None,
        daemon_url: str | None = None,
        resume: bool = False,
    ) -> tuple[RunResult, Collector]:
        """Through ``launch``, as the CLI does it (real clock, real sleeps: no waiting steps)."""
        path = self.write(body, head)
        reporter = Collector()
        options = LaunchOptions(
            daemon_url=daemon_url or self.sandbox.url,
            variables=dict(variables or {}),
            run_id=run_id,
            resume=resume,
            state=self.state,
            timeout=timeout,
            environ=self.environ(environ),
            retry_policy=self.retry_policy,
            sleep=_no_wait,  # retries and the settling wait before a reconciliation
        )
        result = await launch(load_playbook(path), path, mode, options, reporter)
        assert reporter.result is result
        return result, reporter

    async def execute(
        self, body: str, mode: Mode = "run", *, head: str = HEAD, run_id: str | None = None
    ) -> tuple[RunResult, Collector, FakeSleep]:
        """Straight through ``execute``, on the sandbox's clock: a poll's sleep advances it."""
        playbook = load_playbook(self.write(body, head))
        reporter = Collector()
        sleep = FakeSleep(self.sandbox)
        with Ledger(self.state, clock=self.sandbox.clock) as ledger:
            async with WAIaaSClient(
                self.sandbox.url, self.sandbox.token, retry_policy=self.retry_policy
            ) as client:
                scope = RunScope(
                    playbook=playbook,
                    client=client,
                    ledger=ledger,
                    run_id=run_id or new_run_id(),
                    mode=mode,
                    clock=self.sandbox.clock,
                    sleep=sleep,
                )
                run = Run(scope, env={"WAIAAS_URL": self.sandbox.url}, on_log=reporter.log)
                run.values.set_vars({})
                result = await execute(run, reporter)
        return result, reporter, sleep

    def ledger(self) -> Ledger:
        return Ledger(self.state)


@pytest.fixture
async def engine(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Engine]:
    yield Engine(sandbox, tmp_path)


def outputs(result: RunResult, step_id: str) -> dict[str, Any]:
    return step(result, step_id).output


@dataclass
class Webhook:
    """A local webhook receiver: what it got, and the status it answers with."""

    url: str
    received: list[dict[str, Any]]
    status: int = 200


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    from aiohttp import web

    hook = Webhook(url="", received=[])

    async def receive(request: web.Request) -> web.Response:
        hook.received.append(await request.json())
        return web.Response(status=hook.status, text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield hook
    finally:
        await runner.cleanup()


@dataclass
class Mangler:
    """A reverse proxy in front of the sandbox that answers chosen paths itself, the way a
    broken daemon or a misconfigured proxy would: ``answer("GET", "/v1/wallet/balance",
    200, '{"walletId": "x"}')``. Everything else is forwarded unchanged."""

    url: str
    answers: dict[tuple[str, str], tuple[int, str, str]]
    forwarded: list[str]

    def answer(
        self, method: str, path: str, status: int, body: str, content_type: str = "application/json"
    ) -> None:
        self.answers[(method, path)] = (status, body, content_type)


@pytest.fixture
async def mangler(sandbox: Sandbox) -> AsyncIterator[Mangler]:
    import aiohttp
    from aiohttp import web

    proxy = Mangler(url="", answers={}, forwarded=[])
    session = aiohttp.ClientSession()

    async def handle(request: web.Request) -> web.StreamResponse:
        canned = proxy.answers.get((request.method, request.path))
        if canned is not None:
            status, body, content_type = canned
            return web.Response(status=status, text=body, content_type=content_type)
        proxy.forwarded.append(f"{request.method} {request.path}")
        async with session.request(
            request.method,
            sandbox.url + request.path_qs,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            data=await request.read(),
        ) as upstream:
            return web.Response(
                status=upstream.status,
                body=await upstream.read(),
                content_type=upstream.content_type,
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    proxy.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield proxy
    finally:
        await session.close()
        await runner.cleanup()
