"""Audits against the sandbox: runs through the engine (the exactly-once harness: a real
ledger, real HTTP), transfers posted straight to the daemon, and the audit of both."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from runner.client import RetryPolicy, SendResult, TransferRequest, WAIaaSClient
from runner.engine.audit import AuditReport, AuditSettings, AuditSource, audit
from runner.ledger import Ledger
from runner.playbook import load_playbook

# the exactly-once harness (a sandbox over HTTP, a ledger, runs through the engine) is
# this package's fixture too
from tests.exactly_once.conftest import STRANGER, Harness
from tests.exactly_once.conftest import harness as harness

__all__ = ["STRANGER", "Daemon", "audit_command", "run_audit", "send_body", "wei"]

SEND_BODY = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "AMOUNT" }
"""
NETWORK = "ethereum-sepolia"


def send_body(amount: str) -> str:
    return SEND_BODY.replace("AMOUNT", amount)


def wei(eth: str) -> int:
    whole, _, fraction = eth.partition(".")
    return int(whole) * 10**18 + int((fraction + "0" * 18)[:18])


class Daemon:
    """Transfers made straight to the sandbox, as another client of the daemon would."""

    def __init__(self, running: Harness) -> None:
        self.harness = running

    def client(self) -> WAIaaSClient:
        return WAIaaSClient(self.harness.sandbox.url, self.harness.sandbox.token)

    async def post(self, to: str, raw: int, wallet: str = "treasury") -> SendResult:
        wallet_id = self.harness.sandbox.wallet(wallet)["id"]
        request = TransferRequest(to, raw, network=NETWORK, wallet_id=wallet_id)
        async with self.client() as client:
            return await client.send(request)

    async def status(self, tx_id: str) -> str:
        async with self.client() as client:
            return (await client.get_transaction(tx_id)).status.value

    def address(self, wallet: str) -> str:
        return self.harness.sandbox.wallet(wallet)["address"]


async def run_audit(
    running: Harness,
    *paths: Path,
    clock: Callable[[], float] = time.time,
    on_request: Callable[[str], None] | None = None,
    **settings: Any,
) -> AuditReport:
    """The engine's audit of ``paths`` (default: the harness's last playbook file);
    ``on_request`` is told ``METHOD /path`` of every request."""
    files = list(paths) or [running.tmp_path / f"playbook-{running._count}.yaml"]
    playbooks = [load_playbook(path) for path in files]

    async def seen(request: httpx.Request) -> None:
        if on_request is not None:
            on_request(f"{request.method} {request.url.path}")

    async with (
        httpx.AsyncClient(event_hooks={"request": [seen]}) as http,
        WAIaaSClient(
            running.sandbox.url,
            running.sandbox.token,
            retry_policy=RetryPolicy(max_retry_after=0),
            http_client=http,
        ) as client,
    ):
        source = AuditSource(running.sandbox.url, client, playbooks, running.options())
        with Ledger(running.state) as ledger:
            return await audit([source], ledger, AuditSettings(**settings), clock=clock)


async def audit_command(
    running: Harness, *args: str, without: tuple[str, ...] = ()
) -> tuple[int, str, str]:
    """``waiaas-run audit`` in another process, against the harness's sandbox and ledger
    (``without``: environment variables left unset)."""
    environ = {
        **os.environ,
        "WAIAAS_SESSION_TOKEN": running.sandbox.token,
        "WAIAAS_URL": running.sandbox.url,
        "XDG_CONFIG_HOME": str(running.tmp_path / "config"),
    }
    for name in without:
        environ.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "runner",
        "audit",
        "--state",
        str(running.state),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environ,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def as_json(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out)
    return data
