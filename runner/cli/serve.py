"""``waiaas-run serve PATH...``: run every scheduled playbook on its schedule."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from runner.cli._address import is_loopback, listen_address
from runner.cli._execution import positive_duration
from runner.cli._numbers import WholeNumber
from runner.engine.config import default_config_path, load_config, retention_seconds
from runner.errors import UsageError
from runner.ledger import LedgerError, default_ledger_path
from runner.ledger.retention import DEFAULT_RETENTION
from runner.playbook.durations import DurationError, duration_text
from runner.serve.audit import ServeAuditOptions
from runner.serve.budget import DaemonLimits
from runner.serve.engine_adapter import AuditSettings, LaunchOptions
from runner.serve.http import HttpEndpoints
from runner.serve.lifecycle import Serve, ServeOptions, StartupError
from runner.serve.logs import configure_logging

DEFAULT_RETAIN = f"{DEFAULT_RETENTION / 86400:.0f}d"


def audit_interval(ctx: click.Context, param: click.Parameter, value: str) -> float | None:
    if value.strip().lower() in ("off", "0", "no", "never"):
        return None
    return positive_duration(ctx, param, value)


@click.command("serve")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run ledger (default: $WAIAAS_RUNNER_STATE, else "
    "~/.local/share/waiaas-runner/ledger.sqlite3).",
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Runner config with limits for every playbook (as for `run`).",
)
@click.option(
    "--http",
    "http",
    callback=listen_address,
    metavar="HOST:PORT",
    help="Serve the status page (/), /-/healthy, /-/ready, /metrics and /status here "
    "(loopback unless a host is given; off by default).",
)
@click.option(
    "--http-public",
    is_flag=True,
    help="Allow --http on an address other than loopback: the page and /status show wallet "
    "addresses to whoever can reach it (a warning is logged).",
)
@click.option("--daemon-url", envvar="WAIAAS_URL", help="The daemon for every playbook.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Session token file for every playbook (renewed tokens are written back to it).",
)
@click.option(
    "--drain-timeout",
    callback=positive_duration,
    default="120s",
    show_default=True,
    help="On SIGTERM/SIGINT, how long runs in flight may take to reach a recorded state.",
)
@click.option("--watch", is_flag=True, help="Reload when a playbook file changes (as on SIGHUP).")
@click.option(
    "--request-timeout",
    callback=positive_duration,
    default="30s",
    show_default=True,
    help="How long one HTTP call to the daemon may take before it counts as lost.",
)
@click.option(
    "--pipeline-timeout",
    callback=positive_duration,
    help="How long a send may wait for its wallet's earlier sends to leave the daemon's "
    "signing before the step fails unsent (as for `run`; default 60s).",
)
@click.option(
    "--max-concurrent-runs",
    type=WholeNumber(min=1),
    default=64,
    show_default=True,
    help="Runs in progress at once; more wait their turn (their first request is late).",
)
@click.option(
    "--daemon-limits",
    default="1000,300,10",
    show_default=True,
    metavar="IP,SESSION,TXLIST",
    help="The daemon's rate limits a minute (per IP, per session, transaction list); "
    "serve paces itself below them.",
)
@click.option(
    "--audit-every",
    callback=audit_interval,
    default="1h",
    show_default=True,
    metavar="DURATION|off",
    help="Audit the scheduled playbooks' wallets against the ledger this often (as "
    "`waiaas-run audit` does; the first a minute after the start); off: never.",
)
@click.option(
    "--audit-since",
    callback=positive_duration,
    help="How far back each audit reads the transaction lists (default: 24h, or twice "
    "--audit-every when that is longer; never less than --audit-every).",
)
@click.option(
    "--audit-max-list-reads",
    type=WholeNumber(min=1),
    default=5,
    show_default=True,
    help="Transaction-list reads per session and audit (they share the daemon's 10 a "
    "minute with the runs, paced by the request budget).",
)
@click.option(
    "--audit-webhook",
    envvar="WAIAAS_AUDIT_WEBHOOK",
    metavar="URL",
    help="POST one event per new audit finding here (default: $WAIAAS_AUDIT_WEBHOOK).",
)
@click.option(
    "--audit-cancel-queued",
    is_flag=True,
    help="Let each audit cancel the likely doubles the daemon still holds QUEUED.",
)
@click.option(
    "--retain",
    metavar="DURATION|never",
    help="Prune runs, steps, sends and slot records older than this while serving, in small "
    "batches (never an unsettled send, one of the last 24 h, or what --resume needs). "
    f"never (or off): keep everything. Default: `retain:` of the runner config, else "
    f"{DEFAULT_RETAIN}.",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "text", "json"]),
    default="auto",
    show_default=True,
    help="auto: text on a terminal, JSON lines otherwise.",
)
def command(
    paths: tuple[Path, ...],
    state: Path | None,
    http: tuple[str, int] | None,
    http_public: bool,
    daemon_limits: str,
    drain_timeout: float,
    watch: bool,
    max_concurrent_runs: int,
    log_format: str,
    audit_every: float | None,
    audit_since: float | None,
    audit_max_list_reads: int,
    audit_webhook: str | None,
    audit_cancel_queued: bool,
    retain: str | None,
    **launch: Any,
) -> None:
    """Run every playbook under PATHS (files or directories) that has a `schedule:`, each
    on its own schedule, until SIGTERM. SIGHUP re-reads the playbooks."""
    _check_exposure(http, http_public)
    configure_logging(json_lines=None if log_format == "auto" else log_format == "json")
    if http is not None and http_public and not is_loopback(http[0]):
        logging.getLogger("runner.serve").warning(
            "--http-public: the status page (/) and /status on %s:%d show wallet addresses, "
            "playbooks and sends to anyone who can reach that address; they never act, but "
            "keep it behind a firewall or an authenticating proxy",
            *http,
        )
    if audit_every is None:
        _warn_unused_audit_options(click.get_current_context())
    parts = [part.strip() for part in daemon_limits.split(",")]
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        raise click.BadParameter(
            f"expected three whole numbers IP,SESSION,TXLIST, got {daemon_limits!r}",
            param_hint="--daemon-limits",
        )
    ip, session, tx_list = (int(part) for part in parts)
    if min(ip, session, tx_list) < 1:
        raise click.BadParameter(
            f"each limit is at least 1 request a minute, got {daemon_limits!r}",
            param_hint="--daemon-limits",
        )
    retain_seconds = _retention(retain, launch.get("config"))
    audit_window = _audit_window(audit_every, audit_since)
    if audit_every is not None and retain_seconds is not None and audit_window > retain_seconds:
        # retention may drop sends the audit still reads: their transactions would be
        # reported as foreign, and their doubles missed
        raise click.BadParameter(
            f"the audit reads {duration_text(audit_window)} back"
            + (" (the default)" if audit_since is None else "")
            + f", longer than the ledger is kept (--retain / retain: "
            f"{duration_text(retain_seconds)}): keep the ledger at least as long as the "
            "audit reads, shorten --audit-since, or turn the audit off (--audit-every off)",
            param_hint="--audit-since",
        )
    options = ServeOptions(
        paths=list(paths),
        state=state or default_ledger_path(),
        launch=LaunchOptions(**launch),
        drain_timeout=drain_timeout,
        max_concurrent_runs=max_concurrent_runs,
        limits=DaemonLimits(ip, session, tx_list),
        watch_interval=2.0 if watch else None,
        audit=ServeAuditOptions(
            every=audit_every,
            settings=AuditSettings(
                since=audit_window,
                max_list_reads=audit_max_list_reads,
                cancel_queued=audit_cancel_queued,
            ),
            webhook=_webhook(audit_webhook),
        ),
        retain=retain_seconds,
    )
    sys.exit(asyncio.run(_serve(options, http)))


def _retention(retain: str | None, config: Path | None) -> float | None:
    """--retain, else the runner config's ``retain:``, else the default."""
    if retain is not None:
        try:
            return retention_seconds(retain)
        except DurationError as error:
            raise click.BadParameter(str(error), param_hint="--retain") from None
    try:
        configured = load_config(config or default_config_path(os.environ)).retain
    except UsageError as error:
        raise click.UsageError(str(error)) from None
    return retention_seconds(configured or DEFAULT_RETAIN)


_AUDIT_OPTIONS = {
    "audit_since": "--audit-since",
    "audit_max_list_reads": "--audit-max-list-reads",
    "audit_webhook": "--audit-webhook",
    "audit_cancel_queued": "--audit-cancel-queued",
}


def _warn_unused_audit_options(ctx: click.Context) -> None:
    """--audit-every off with audit options typed on the command line: say that they do
    nothing (a webhook from $WAIAAS_AUDIT_WEBHOOK is not typed: no warning)."""
    given = [
        flag
        for name, flag in _AUDIT_OPTIONS.items()
        if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        logging.getLogger("runner.serve").warning(
            "%s: no effect, the periodic audit is off (--audit-every off)", ", ".join(given)
        )


def _audit_window(every: float | None, since: float | None) -> float:
    """How far back each audit reads: every transaction is read by at least one audit."""
    if since is None:
        return max(24 * 3600.0, 2 * (every or 0.0))
    if every is not None and since < every:
        raise click.BadParameter(
            f"{duration_text(since)} is shorter than --audit-every ({duration_text(every)}): "
            "the transactions made between two audits would never be read",
            param_hint="--audit-since",
        )
    return since


def _webhook(url: str | None) -> str | None:
    """The audit webhook, checked without ever quoting it (it may carry a secret)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(
            "not an http:// or https:// URL (not shown: it may hold a secret)",
            param_hint="--audit-webhook",
        )
    return url


def _check_exposure(http: tuple[str, int] | None, http_public: bool) -> None:
    """The page and /status reveal wallet addresses: only loopback unless asked for."""
    if http is None:
        if http_public:
            raise click.UsageError("--http-public only applies with --http HOST:PORT")
        return
    host, port = http
    if http_public or is_loopback(host):
        return
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    raise click.UsageError(
        f"--http {shown} is not a loopback address: the status page (/) and /status would "
        "show wallet addresses, playbooks and sends to every machine that can reach it. "
        "Listen on 127.0.0.1 (or ::1, localhost), or give --http-public to mean it."
    )


async def _serve(options: ServeOptions, http: tuple[str, int] | None) -> int:
    try:
        serve = Serve(options)
    except LedgerError as error:
        click.echo(f"waiaas-run serve: {error} (choose another with --state)", err=True)
        return 2
    endpoints = HttpEndpoints(serve, *http) if http else None
    try:
        serve.install_signal_handlers()
        if endpoints is not None:  # first: a port that cannot be had stops serve before any run
            await endpoints.start()
        await serve.start()
    except (StartupError, LedgerError) as error:
        click.echo(f"waiaas-run serve: {error}", err=True)
    except (OSError, UnicodeError) as error:  # cannot listen there (or resolve the name)
        message = error.strerror if isinstance(error, OSError) and error.strerror else error
        click.echo(f"waiaas-run serve: --http: {message}", err=True)
    else:
        code = await serve.run_until_stopped()
        if endpoints is not None:
            await endpoints.close()
        return code
    await serve.drain()
    if endpoints is not None:
        await endpoints.close()
    return 2
