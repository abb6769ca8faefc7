"""From command-line options to a finished run: the daemon (``runner.engine.connection``),
the ledger and its locks, the sandbox, and the run itself."""

from __future__ import annotations

import contextlib
import logging
import secrets
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from runner.client import WAIaaSClient
from runner.engine.config import RunnerConfig, default_config_path, load_config
from runner.engine.connection import (
    TOKEN_ENV,
    Connection,
    daemon_token,
    daemon_url,
    environment,
    expression_env,
    resolve_connection,
)
from runner.engine.executor import Reporter, execute
from runner.engine.options import LaunchOptions, SandboxStarter
from runner.engine.results import RunResult
from runner.engine.run_events import notify_run
from runner.engine.scope import DEFAULT_PIPELINE_TIMEOUT, Mode, Run, RunScope
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
from runner.ledger.horizon import slot_problem
from runner.ledger.keys import SendKey
from runner.ledger.locks import async_playbook_lock
from runner.playbook import EvaluationError, Playbook
from runner.playbook.steps import step_id_of
from runner.secrets import mask_secrets

__all__ = [
    "TOKEN_ENV",
    "Connection",
    "LaunchOptions",
    "SandboxStarter",
    "launch",
    "new_run_id",
    "resolve_connection",
]

log = logging.getLogger("runner.engine")


def new_run_id(now: datetime | None = None) -> str:
    """Sortable and unique: ``20261125T172500Z-3f9a1c``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


@contextlib.asynccontextmanager
async def _daemon(
    playbook: Playbook, path: Path, options: LaunchOptions, env: Mapping[str, str | None]
) -> AsyncIterator[tuple[str, str]]:
    if options.connection is not None:
        yield options.connection
        return
    if options.sandbox is None:
        yield daemon_url(playbook, options, env), daemon_token(playbook, path, options, env)
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
    env = environment(playbook, options.environ)
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
                    pipeline_timeout=_pipeline_timeout(options, config),
                )
                run = _prepared_run(
                    scope, expression_env(playbook, env, options), options, reporter
                )
                return await _carry_out(run, reporter, options, resume)


def _pipeline_timeout(options: LaunchOptions, config: RunnerConfig) -> float:
    """--pipeline-timeout, else the runner config's, else the default."""
    if options.pipeline_timeout is not None:
        return options.pipeline_timeout
    if config.pipeline_timeout is not None:
        return config.pipeline_timeout.total_seconds()
    return DEFAULT_PIPELINE_TIMEOUT


def _run_id(
    playbook: Playbook, ledger: Ledger, options: LaunchOptions
) -> tuple[str, dict[str, StepRecord] | None]:
    """The run's id, and with --resume the step records of the run it continues (also when
    a scheduled slot fires again: a restart, a duplicate job; its run id is the same)."""
    if not options.resume:
        run_id = options.run_id or new_run_id()
        if options.scheduled_for is None:
            return run_id, None
        if ledger.run(run_id) is None:
            # an old slot without a record may have been pruned after it ran and sent
            if problem := slot_problem(ledger.horizon(), options.scheduled_for.timestamp()):
                raise UsageError(f"--scheduled-for: {problem}")
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
