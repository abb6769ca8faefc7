"""From command-line options to a finished run: daemon, token, env, ledger, sandbox.

Precedence for the daemon: ``--sandbox`` > ``--daemon-url`` / ``--token-file`` /
``$WAIAAS_SESSION_TOKEN`` > what the playbook's ``daemon:`` refers to. Environment
variables that only feed ``daemon.token`` are never visible to expressions, so a token
cannot be rendered into a memo or a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from runner.client import ConnectInfo, RetryPolicy, WAIaaSClient
from runner.engine.config import default_config_path, load_config
from runner.engine.executor import Reporter, execute
from runner.engine.results import RunResult
from runner.engine.run_events import notify_run
from runner.engine.scope import Mode, Run, RunScope
from runner.errors import LockBusy, UsageError
from runner.ledger import (
    Ledger,
    LedgerBusy,
    LedgerDamaged,
    LedgerError,
    SendState,
    StepRecord,
    default_ledger_path,
)
from runner.ledger.keys import SendKey
from runner.ledger.locks import async_playbook_lock
from runner.playbook import EvalContext, EvaluationError, Playbook, Template, UnitTable, render
from runner.playbook.facts import referenced
from runner.playbook.files import read_input_file
from runner.playbook.steps import step_id_of
from runner.playbook.values import format_value
from runner.secrets import mask_secrets

__all__ = [
    "Connection",
    "LaunchOptions",
    "SandboxStarter",
    "launch",
    "new_run_id",
    "resolve_connection",
]

log = logging.getLogger("runner.engine")
TOKEN_ENV = "WAIAAS_SESSION_TOKEN"
URL_ENV = "WAIAAS_URL"


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


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: ``20261125T172500Z-3f9a1c``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def _names_in(template: Template | None) -> set[str]:
    if template is None:
        return set()
    return {
        name
        for p in template.placeholders
        for root, name in referenced(p.expression)
        if root == "env"
    }


def _environment(playbook: Playbook, environ: Mapping[str, str]) -> dict[str, str | None]:
    """The variables the playbook reads: set ones, else the defaults its ``env:`` declares."""
    names = set(playbook.env) | _names_in(playbook.daemon.url) | _names_in(playbook.daemon.token)
    return {name: environ.get(name, playbook.env.get(name)) for name in names}


def _render_daemon_text(template: Template, env: Mapping[str, str | None], what: str) -> str:
    missing = sorted(name for name in _names_in(template) if env.get(name) is None)
    if missing:
        raise UsageError(
            f"daemon.{what} needs the environment variable(s) {', '.join(missing)}; "
            f"set them{' or pass --daemon-url' if what == 'url' else ''}"
        )
    context = EvalContext(units=UnitTable(), env={k: v for k, v in env.items() if v is not None})
    try:
        return format_value(render(template, context))
    except EvaluationError as error:
        raise UsageError(f"daemon.{what}: {error}") from None


def _daemon_url(playbook: Playbook, options: LaunchOptions, env: Mapping[str, str | None]) -> str:
    url = options.daemon_url or _render_daemon_text(playbook.daemon.url, env, "url")
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # an unclosed [ipv6] bracket, a port that is not a number
        usable = False
    # A URL that cannot name a daemon is bad input (exit 2), not three failed connects (exit 1).
    if usable and ("@" in parts.netloc):
        # user:password@ would be sent as Basic auth in place of the session token (every
        # request 401), and a password would end up in /status and the logs: refused, and
        # never quoted
        raise UsageError(
            "the daemon URL carries credentials (user:password@host); the session token is "
            "the only credential: remove them (from --daemon-url, else $WAIAAS_URL or "
            "daemon.url)"
        )
    if not usable or url != url.strip():
        raise UsageError(
            f"the daemon URL {url[:80] if '@' not in url else '(not shown: it has an @)'!r} "
            "is not an http:// or https:// URL with a host "
            "(from --daemon-url, else $WAIAAS_URL or daemon.url)"
        )
    return url


def _read_token_file(path: Path) -> str:
    try:
        return read_input_file(path).decode("utf-8-sig")  # a BOM from a Windows editor is fine
    except OSError as error:
        raise UsageError(f"cannot read the token file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the token file {path} is not UTF-8 text") from None


# A token goes into an HTTP header: one line of visible ASCII (a JWT is base64url and dots).
_TOKEN_SHAPE = re.compile(r"[!-~]+")


def _checked_token(token: str, source: str) -> str:
    token = token.strip()
    if not token:
        raise UsageError(f"the session token from {source} is empty")
    if not _TOKEN_SHAPE.fullmatch(token):
        # never quote it: the point of this message is that the value is broken
        raise UsageError(
            f"the session token from {source} is not one line of printable ASCII "
            "(a second line, a space or a special character?); fix it there"
        )
    return token


def _token(
    playbook: Playbook, playbook_path: Path, options: LaunchOptions, env: Mapping[str, str | None]
) -> str:
    if options.token_file is not None:
        return _checked_token(_read_token_file(options.token_file), str(options.token_file))
    if options.environ.get(TOKEN_ENV):
        return _checked_token(options.environ[TOKEN_ENV], f"${TOKEN_ENV}")
    if playbook.daemon.token_file is not None:
        path = playbook_path.parent / playbook.daemon.token_file
        return _checked_token(_read_token_file(path), str(path))
    assert playbook.daemon.token is not None  # the model requires one of the two
    return _checked_token(_render_daemon_text(playbook.daemon.token, env, "token"), "daemon.token")


def _expression_env(
    playbook: Playbook, env: Mapping[str, str | None], options: LaunchOptions
) -> dict[str, str]:
    secret = _names_in(playbook.daemon.token) | {TOKEN_ENV}
    # names that only locate the daemon are not needed when the daemon comes from options
    located = (
        _names_in(playbook.daemon.url)
        if options.sandbox is not None or options.daemon_url
        else set()
    )
    missing = sorted(
        name
        for name, value in env.items()
        if value is None and name in playbook.env and name not in secret | located
    )
    if missing:
        raise UsageError(
            f"the playbook needs the environment variable(s) {', '.join(missing)} (see env:)"
        )
    return {name: value for name, value in env.items() if value is not None and name not in secret}


@dataclass(frozen=True)
class Connection:
    """Where a playbook's daemon is and the token it uses; ``token_file`` when the token
    was read from a file (serve writes a renewed token back there)."""

    url: str
    token: str
    token_file: Path | None


def resolve_connection(playbook: Playbook, path: Path, options: LaunchOptions) -> Connection:
    """The daemon and token a run of ``playbook`` would use (raises :class:`UsageError`)."""
    env = _environment(playbook, options.environ)
    token_file = options.token_file
    if token_file is None and not options.environ.get(TOKEN_ENV) and playbook.daemon.token_file:
        token_file = path.parent / playbook.daemon.token_file
    return Connection(
        _daemon_url(playbook, options, env), _token(playbook, path, options, env), token_file
    )


@contextlib.asynccontextmanager
async def _daemon(
    playbook: Playbook, path: Path, options: LaunchOptions, env: Mapping[str, str | None]
) -> AsyncIterator[tuple[str, str]]:
    if options.connection is not None:
        yield options.connection
        return
    if options.sandbox is None:
        yield _daemon_url(playbook, options, env), _token(playbook, path, options, env)
        return
    async with options.sandbox() as (url, token):
        yield url, token


@contextlib.contextmanager
def _ledger(options: LaunchOptions, plan: bool) -> Iterator[Ledger]:
    if options.ledger is not None:  # serve's, shared by its runs (and closed by serve)
        yield options.ledger
        return
    default = default_ledger_path(options.environ)
    if options.state is None and (options.sandbox is not None or (plan and not default.exists())):
        # sandbox sends must never count against a real ledger's limits, and a plan reads
        # a ledger but never creates one
        with (
            tempfile.TemporaryDirectory(prefix="waiaas-sandbox-") as folder,
            _opened(Path(folder) / "ledger.sqlite3", options.clock) as ledger,
        ):
            yield ledger
        return
    with _opened(options.state or default, options.clock) as ledger:
        yield ledger


@contextlib.contextmanager
def _opened(path: Path, clock: Callable[[], float] | None) -> Iterator[Ledger]:
    try:
        ledger = Ledger(path) if clock is None else Ledger(path, clock=clock)
    except (LedgerDamaged, LedgerBusy):
        raise  # their messages say what to do
    except LedgerError as error:
        raise UsageError(f"{error} (choose another with --state)") from None
    with ledger:
        yield ledger


@contextlib.asynccontextmanager
async def _playbook_lock(ledger: Ledger, name: str, wait: bool, mode: Mode) -> AsyncIterator[None]:
    """One run per playbook at a time, across processes sharing the ledger (a plan reads
    only, so it never waits for a run)."""
    if mode == "plan":
        yield
        return
    lock = async_playbook_lock(ledger.path, name)
    if not await lock.acquire(wait=wait):
        raise LockBusy(
            f"another waiaas-run process is running playbook {name!r} with this ledger; "
            "nothing was done (use --wait-lock to wait for it)"
        )
    try:
        yield
    finally:
        lock.release()


async def launch(
    playbook: Playbook, path: Path, mode: Mode, options: LaunchOptions, reporter: Reporter
) -> RunResult:
    """Run or plan ``playbook``; raises :class:`UsageError` for problems of the invocation
    and :class:`LockBusy` when another process runs the same playbook."""
    env = _environment(playbook, options.environ)
    config = load_config(options.config or default_config_path(options.environ))
    with _ledger(options, plan=mode == "plan") as ledger:
        async with _playbook_lock(ledger, playbook.name, options.wait_lock, mode):
            run_id, resume = _run_id(playbook, ledger, options)
            async with (
                _daemon(playbook, path, options, env) as (url, token),
                WAIaaSClient(
                    url,
                    token,
                    retry_policy=options.retry_policy,
                    timeout=options.request_timeout,
                    http_client=options.http_client,
                ) as client,
            ):
                scope = RunScope(
                    playbook,
                    client,
                    ledger,
                    run_id,
                    mode,
                    config.limits,
                    scheduled_for=options.scheduled_for,
                    sandbox_url=url if options.sandbox is not None else None,
                    sleep=options.sleep,
                    clock=options.clock or time.time,
                    connect_info=options.connect_info,
                )
                run = _prepared_run(
                    scope, _expression_env(playbook, env, options), options, reporter
                )
                return await _carry_out(run, reporter, options, resume)


def _run_id(
    playbook: Playbook, ledger: Ledger, options: LaunchOptions
) -> tuple[str, dict[str, StepRecord] | None]:
    """The run's id, and with --resume the step records of the run it continues (also when
    a scheduled slot fires again: a restart, a duplicate job; its run id is the same)."""
    if not options.resume:
        run_id = options.run_id or new_run_id()
        if options.scheduled_for is None or ledger.run(run_id) is None:
            return run_id, None
        _check_resumable(playbook, ledger, run_id)
        return run_id, ledger.steps(run_id)
    unfinished = ledger.last_unfinished_run(playbook.name)
    if unfinished is None:
        raise UsageError(f"--resume: playbook {playbook.name!r} has no unfinished run")
    _check_resumable(playbook, ledger, unfinished.run_id)
    return unfinished.run_id, ledger.steps(unfinished.run_id)


def _prepared_run(
    scope: RunScope, env: Mapping[str, str], options: LaunchOptions, reporter: Reporter
) -> Run:
    run = Run(scope, env=env, on_log=reporter.log)
    try:
        run.values.set_vars(options.variables)
    except EvaluationError as error:
        raise UsageError(f"vars: {error}") from None
    return run


async def _carry_out(
    run: Run, reporter: Reporter, options: LaunchOptions, resume: dict[str, StepRecord] | None
) -> RunResult:
    scope = run.scope
    if scope.planning:
        return await execute(run, reporter, timeout=options.timeout, resume=resume)
    _warn_unsettled(scope.ledger, scope.playbook.name, reporter)
    try:
        slot = scope.scheduled_for
        scope.ledger.begin_run(
            scope.playbook.name, scope.run_id, slot.timestamp() if slot else None
        )
    except sqlite3.Error as error:  # nothing has happened yet: refuse to start
        raise UsageError(
            f"cannot record the run in the ledger {scope.ledger.path}: {error}"
        ) from None
    result = await execute(run, reporter, timeout=options.timeout, resume=resume)
    try:
        scope.ledger.finish_run(scope.run_id, _run_status(result), int(result.exit_code))
    except LedgerError as error:  # what the run did is recorded; only its end is not
        reporter.log("error", f"{error}; the run's steps and sends were recorded before")
        result.fail(error)
    except Exception as error:  # the run is over: say so, never a traceback
        problem = mask_secrets(
            f"the ledger could not record the end of run {scope.run_id} "
            f"({type(error).__name__}: {error}); `waiaas-run history` shows it as running"
        )
        reporter.log("error", problem)
        result.fail(error, problem)
    if not result.steps or any(not step.resumed for step in result.steps):  # told once
        await notify_run(run, result)
    return result


def _check_resumable(playbook: Playbook, ledger: Ledger, run_id: str) -> None:
    """Refuse to resume a run whose sends the playbook no longer has: it was edited, and
    posting its sends under new keys could move the money a second time."""
    current = {
        str(SendKey(playbook.name, run_id, step_id_of(step, index, playbook.steps)))
        for index, step in enumerate(playbook.steps)
        if step.sends
    }
    orphans = [
        send.key
        for send in ledger.sends(run_id=run_id)
        if send.key not in current and send.state is not SendState.NOT_SENT
    ]
    if orphans:
        raise UsageError(
            f"--resume: run {run_id} recorded send(s) {', '.join(orphans)} that the playbook "
            "no longer has (it was edited since). Resuming could send twice; restore the "
            "playbook, or start a new run and settle the old sends with `waiaas-run resolve`"
        )


def _warn_unsettled(ledger: Ledger, name: str, reporter: Reporter) -> None:
    """A new run posts under new keys; still, a person should know about older sends that
    nobody has settled."""
    unsettled = [send.key for send in ledger.sends(playbook=name, state=SendState.UNKNOWN)]
    if unsettled:
        reporter.log(
            "warning",
            f"{len(unsettled)} earlier send(s) of this playbook are in an unknown state "
            f"({', '.join(unsettled)}); see `waiaas-run history` and `waiaas-run resolve`",
        )


def _run_status(result: RunResult) -> str:
    if result.unknown_send:
        return "unknown"  # --resume picks it up once the send is resolved
    return "failed" if result.exit_code else "ok"
