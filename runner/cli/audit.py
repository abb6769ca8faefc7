"""``waiaas-run audit [PLAYBOOKS]...``: the ledger against what the daemon actually did."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import click

from runner.cli._execution import positive_duration
from runner.cli._ledger_option import open_ledger, state_option
from runner.cli._numbers import WholeNumber
from runner.client import RetryPolicy, WAIaaSClient
from runner.engine.audit import AuditReport, AuditSettings, AuditSource, audit
from runner.engine.connection import URL_ENV, checked_url, given_token, resolve_connection
from runner.engine.options import LaunchOptions
from runner.errors import RunnerError, UsageError, exit_code_of
from runner.ledger import Ledger
from runner.playbook import Playbook, PlaybookError, load_playbook
from runner.playbook.files import find_playbooks
from runner.secrets import mask_secrets

# A 429 is not waited out (its Retry-After is a minute): the audit stops reading that
# wallet and says it is incomplete.
_NO_RATE_LIMIT_WAITS = RetryPolicy(max_retry_after=0.0)


@click.command("audit")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--since",
    callback=positive_duration,
    default="24h",
    show_default=True,
    help="Audit the transactions created this far back.",
)
@click.option(
    "--near",
    callback=positive_duration,
    default="10m",
    show_default=True,
    help="An identical transfer created within this of a send's intent is a likely double.",
)
@click.option(
    "--cancel-queued",
    is_flag=True,
    help="Cancel the likely doubles the daemon still holds QUEUED (delay or approval "
    "tier), and nothing else; each is named in the output.",
)
@click.option(
    "--max-list-reads",
    type=WholeNumber(min=1),
    default=5,
    show_default=True,
    help="Transaction-list reads per session (100 transactions each; the daemon allows 10 "
    "a minute). An audit that needs more says it is incomplete.",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--daemon-url",
    envvar=URL_ENV,
    help="The daemon (default: $WAIAAS_URL, else each playbook's daemon.url).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Session token file (default: $WAIAAS_SESSION_TOKEN, else each playbook's).",
)
@click.option(
    "--request-timeout",
    callback=positive_duration,
    default="30s",
    show_default=True,
    help="How long one HTTP call to the daemon may take.",
)
@state_option
def command(
    paths: tuple[Path, ...],
    since: float,
    near: float,
    cancel_queued: bool,
    max_list_reads: int,
    output: str,
    daemon_url: str | None,
    token_file: Path | None,
    request_timeout: float,
    state: Path | None,
) -> None:
    """Compare what the daemon did with the ledger's sends, for every wallet the playbooks use.

    PATHS are playbook files or directories; without them, every wallet of the session
    given by --daemon-url and the token is audited. Reports likely doubles, foreign
    transactions, sends the daemon does not know, differences, and unsettled sends.
    Exit 0 clean, 1 findings or an incomplete audit, 2 usage, 3 a send in an unknown state."""
    options = LaunchOptions(daemon_url=daemon_url, token_file=token_file, state=state)
    settings = AuditSettings(
        since=since, near=near, max_list_reads=max_list_reads, cancel_queued=cancel_queued
    )
    try:
        sessions = _sessions(paths, options)
        with open_ledger(state) as ledger:
            report = asyncio.run(_audit(sessions, options, ledger, settings, request_timeout))
    except RunnerError as error:  # a bad playbook (located: it names the file), a bad
        # invocation, a ledger that cannot be read: said plainly, never a traceback
        prefix = "" if isinstance(error, PlaybookError) else "waiaas-run audit: "
        click.echo(mask_secrets(f"{prefix}{error}"), err=True)
        sys.exit(int(exit_code_of(error)))
    data = report.to_json()
    click.echo(json.dumps(data, indent=2) if output == "json" else render(report, data))
    sys.exit(int(report.exit_code))


Sessions = dict[tuple[str, str], list[Playbook]]


def _sessions(paths: tuple[Path, ...], options: LaunchOptions) -> Sessions:
    """The playbooks grouped by the daemon session they use (URL and token)."""
    sessions: Sessions = {}
    if not paths:
        token = given_token(options)
        if not options.daemon_url or token is None:
            raise UsageError(
                "name the playbooks to audit, or give the daemon (--daemon-url or "
                "$WAIAAS_URL) and a session token (--token-file or $WAIAAS_SESSION_TOKEN) "
                "to audit every wallet of that session"
            )
        sessions[(checked_url(options.daemon_url), token)] = []
        return sessions
    found = find_playbooks(paths)
    if found.unreadable:
        folder, why = next(iter(found.unreadable.items()))
        raise UsageError(f"cannot read the directory {folder}: {why}")
    if not found.files:
        raise UsageError(f"no playbook found in {', '.join(str(p) for p in paths)}")
    for path in found.files:
        playbook = load_playbook(path)
        connection = resolve_connection(playbook, path, options)
        sessions.setdefault((connection.url, connection.token), []).append(playbook)
    return sessions


async def _audit(
    sessions: Sessions,
    options: LaunchOptions,
    ledger: Ledger,
    settings: AuditSettings,
    request_timeout: float,
) -> AuditReport:
    async with _clients(sessions, request_timeout) as clients:
        sources = [
            AuditSource(url, clients[(url, token)], playbooks, options)
            for (url, token), playbooks in sessions.items()
        ]
        return await audit(sources, ledger, settings)


@contextlib.asynccontextmanager
async def _clients(
    sessions: Sessions, request_timeout: float
) -> AsyncIterator[dict[tuple[str, str], WAIaaSClient]]:
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for url, token in sessions:
            client = WAIaaSClient(
                url, token, retry_policy=_NO_RATE_LIMIT_WAITS, timeout=request_timeout
            )
            clients[(url, token)] = await stack.enter_async_context(client)
        yield clients


_TITLES = {
    "likely_double": "LIKELY DOUBLE",
    "foreign": "FOREIGN",
    "unknown_to_daemon": "UNKNOWN TO DAEMON",
    "mismatch": "MISMATCH",
}


def render(report: AuditReport, data: dict[str, Any]) -> str:
    """The audit for a person: what was read, each finding, and the verdict."""
    reads = sum(w["list_reads"] for w in data["wallets"])
    seen = sum(w["transactions"] for w in data["wallets"])
    lines = [
        f"audit of {len(data['wallets'])} wallet(s) since {data['since']}: {seen} "
        f"transaction(s) in {reads} list read(s)"
    ]
    for finding in data["findings"]:
        line = f"{_TITLES[finding['kind']]:<17} {finding['wallet']}: {finding['summary']}"
        if finding["cancelled"] is not None:
            line += " [CANCELLED]" if finding["cancelled"] else " [cancel failed]"
        lines.append(line)
    for cancel in data["cancelled"]:
        line = f"{cancel['tx_id']} (likely double of send {cancel['send_key']})"
        if cancel["cancelled"]:
            lines.append(f"cancelled {line}")
        else:
            lines.append(f"NOT cancelled {line}: {cancel['detail']}")
    for send in data["unsettled"]:
        candidates = ", ".join(send["candidates"]) or "none in the list read"
        lines.append(
            f"UNSETTLED         send {send['send_key']} is {send['state']} ({send['note'] or '-'})"
            f"; transactions that could be its own: {candidates}; settle it with "
            f"`waiaas-run resolve {send['send_key']} --tx ID | --not-sent`"
        )
    for wallet in data["wallets"]:
        if wallet["problem"]:
            lines.append(f"INCOMPLETE        {wallet['wallet']}: {wallet['problem']}")
    lines.extend(f"INCOMPLETE        {problem}" for problem in data["problems"])
    found = len(data["findings"]) + len(data["unsettled"])
    if not report.complete:
        lines.append(
            f"incomplete audit: {found} finding(s) in what could be read; the rest was not "
            "read, so this audit cannot say the wallets are clean"
        )
    elif found:
        lines.append(f"{found} finding(s)")
    else:
        lines.append("clean: every transaction was intended, and every send is borne out")
    return mask_secrets("\n".join(lines))
