"""What a run is started with: the options the CLI, serve and scenario tests fill in."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from runner.client import ConnectInfo, RetryPolicy
from runner.ledger import Ledger

__all__ = ["LaunchOptions", "SandboxStarter"]


SandboxStarter = Callable[[], contextlib.AbstractAsyncContextManager[tuple[str, str]]]


@dataclass
class LaunchOptions:
    daemon_url: str | None = None
    token_file: Path | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    run_id: str | None = None
    resume: bool = False
    state: Path | None = None
    # --sandbox: starts a local daemon for the run and yields (url, token). The CLI
    # provides it, so the engine never imports the sandbox (nor aiohttp).
    sandbox: SandboxStarter | None = None
    timeout: float | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    retry_policy: RetryPolicy | None = None
    config: Path | None = None
    wait_lock: bool = False
    request_timeout: float = 30.0  # seconds for one HTTP call to the daemon
    # seconds a send waits for its wallet's earlier sends to leave signing (None: the
    # runner config's pipeline_timeout, else 60)
    pipeline_timeout: float | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # polls and retries wait here
    # what steps, deadlines and the ledger read as now (None: the wall clock); scenario
    # tests pass the sandbox's frozen clock
    clock: Callable[[], float] | None = None
    # the nominal slot of a scheduled run (serve, --scheduled-for): recorded with the run
    scheduled_for: datetime | None = None
    # serve: the daemon URL and current token of a shared session, and its paced pool
    connection: tuple[str, str] | None = None
    http_client: httpx.AsyncClient | None = None
    # serve: the session's wallet list (connect-info), parsed once and shared by its runs
    connect_info: Callable[[], Awaitable[ConnectInfo]] | None = None
    ledger: Ledger | None = None
