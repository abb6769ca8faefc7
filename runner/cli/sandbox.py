"""`waiaas-run sandbox`: serve the local stand-in daemon, or approve/reject in a running one."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import click
import httpx

from runner.errors import ExitCode
from runner.sandbox.faults import FaultRule, parse_fault
from runner.sandbox.fixture import load_fixture
from runner.sandbox.server import Sandbox


@click.command(name="sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=3100,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--state",
    "state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file that keeps balances, sessions and transactions across restarts.",
)
@click.option(
    "--fixture",
    "fixture",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Wallets, tokens, sessions, tiers and timings (default: the shipped one).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SPEC",
    help="Inject a fault, e.g. 'POST /v1/transactions/send drop times=1' or "
    "'GET /v1/wallet/* status=503'. Repeatable.",
)
@click.option(
    "--rate-limits/--no-rate-limits",
    default=None,
    help="Switch the daemon's rate limits on or off (default: as in the fixture).",
)
@click.option(
    "--signing-race/--no-signing-race",
    default=None,
    help="Whether two overlapping signings of one wallet make the later send FAIL, as on "
    "the daemon (default: as in the fixture, which says on).",
)
@click.option(
    "--pipeline-seconds",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="How long a new send stays PENDING (signing) before it is SUBMITTED or QUEUED "
    "(default: the fixture's timings.pipeline_seconds, 0.1).",
)
@click.option(
    "--approve",
    "approve",
    metavar="TX_ID",
    help="Approve an APPROVAL-tier transaction in a running sandbox, then exit.",
)
@click.option(
    "--reject",
    "reject",
    metavar="TX_ID",
    help="Reject an APPROVAL-tier transaction in a running sandbox, then exit.",
)
@click.option(
    "--url",
    default=lambda: os.environ.get("WAIAAS_URL", "http://127.0.0.1:3100"),
    show_default="$WAIAAS_URL or http://127.0.0.1:3100",
    help="The running sandbox for --approve / --reject.",
)
def command(
    host: str,
    port: int,
    state: Path | None,
    fixture: Path | None,
    faults: tuple[str, ...],
    rate_limits: bool | None,
    signing_race: bool | None,
    pipeline_seconds: float | None,
    approve: str | None,
    reject: str | None,
    url: str,
) -> None:
    """Serve a local stand-in for the WAIaaS daemon (a test double: no keys, no chain).

    Once listening it prints one JSON line on stdout with url, token, session_id and
    wallets, then serves until SIGINT or SIGTERM.
    """
    if approve and reject:
        raise click.UsageError("use --approve or --reject, not both")
    if approve or reject:
        decision = "approve" if approve else "reject"
        _control(url, str(approve or reject), decision)
        return
    try:
        loaded = load_fixture(fixture)
        rules: list[FaultRule] = [parse_fault(spec) for spec in faults]
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    sandbox = Sandbox(
        host=host,
        port=port,
        state=state,
        fixture=loaded,
        rate_limits=rate_limits,
        signing_race=signing_race,
        pipeline_seconds=pipeline_seconds,
        faults=rules,
    )
    try:
        asyncio.run(_serve(sandbox))
    except OSError as error:
        click.echo(f"Error: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        sys.exit(int(ExitCode.INVALID))
    except sqlite3.Error as error:
        click.echo(f"Error: cannot use the state file {state}: {error}", err=True)
        sys.exit(int(ExitCode.INVALID))


async def _serve(sandbox: Sandbox) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with sandbox:
        # The token is printed on purpose: handing it to the caller is this line's job.
        click.echo(json.dumps(sandbox.ready_line()))
        sys.stdout.flush()
        click.echo(
            f"WAIaaS sandbox (test double) serving on {sandbox.url}; Ctrl-C to stop", err=True
        )
        await stop.wait()


def _control(url: str, tx_id: str, decision: str) -> None:
    target = f"{url.rstrip('/')}/_sandbox/transactions/{tx_id}/{decision}"
    try:
        response = httpx.post(target, timeout=10.0)
    except httpx.HTTPError as error:
        click.echo(f"Error: cannot reach the sandbox at {url}: {error}", err=True)
        sys.exit(int(ExitCode.FAILED))
    if response.status_code != 200:
        detail = (
            response.json().get("error")
            if response.headers.get("content-type", "").startswith("application/json")
            else response.text
        )
        click.echo(f"Error: {decision} {tx_id}: {detail}", err=True)
        sys.exit(int(ExitCode.FAILED))
    click.echo(response.text)
