"""Carrying out a playbook: steps in order, conditions, timeouts, results, the record."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

from runner.client import WAIaaSError
from runner.engine.results import RunResult, StepResult, StepStatus
from runner.engine.scope import Run, StepScope
from runner.engine.sending import wait_for_interrupted_request
from runner.engine.steps import RUNNERS
from runner.engine.values import decode, encode
from runner.errors import ExitCode, RunnerError, SendStateUnknown, StepFailed, exit_code_of
from runner.ledger import LedgerError, SendState, StepRecord
from runner.playbook import Amount, truth
from runner.playbook.diagnostics import mask_secrets
from runner.playbook.steps import StepModel, step_id_of
from runner.playbook.values import Value, normalize

__all__ = ["Reporter", "execute"]

log = logging.getLogger("runner.engine")


class Reporter(Protocol):
    """Where progress goes (a terminal, JSON lines, nowhere)."""

    def step_started(self, index: int, step_id: str, label: str) -> None: ...

    def step_finished(self, result: StepResult) -> None: ...

    def log(self, level: str, message: str) -> None: ...

    def run_finished(self, result: RunResult) -> None: ...


async def execute(
    run: Run,
    reporter: Reporter,
    *,
    timeout: float | None = None,
    resume: Mapping[str, StepRecord] | None = None,
) -> RunResult:
    """Run every step of the playbook; never raises (a send may already have been posted:
    whatever fails afterwards, the run ends with a result, exit 1 or 3)."""
    scope = run.scope
    reporter = _Guarded(reporter)
    result = RunResult(scope.playbook.name, scope.run_id, scope.mode)
    started = scope.clock()
    current: list[StepScope] = []  # the step running when the run's deadline passes
    try:
        async with asyncio.timeout(timeout):
            await _run_steps(run, reporter, result, resume or {}, current)
    except TimeoutError:
        result.error = f"the run timed out after {timeout:g}s"
        if current and (key := _send_in_flight(current[-1])) is not None:
            result.unknown_send = True
            result.error += f" while send {key} was in flight; --resume settles it"
    except asyncio.CancelledError:  # Ctrl-C (or a shutdown): say what became of the send
        _interrupted(result, current[-1] if current else None)
        result.duration = scope.clock() - started
        reporter.run_finished(result)
        raise
    except Exception as error:  # a bug of ours between steps: keep what is known
        log.debug("run %s: internal error", scope.run_id, exc_info=error)
        message = f"internal error in waiaas-runner ({type(error).__name__}: {error})"
        if current and (key := _send_in_flight(current[-1])) is not None:
            result.unknown_send = True
            message += f"; send {key} was in flight: --resume settles it"
        result.fail(error, mask_secrets(f"{message}; please report it"))
    result.duration = scope.clock() - started
    if reporter.failure is not None:
        result.fail(reporter.failure)
    reporter.run_finished(result)
    if reporter.failure is not None:  # the end itself could not be shown
        result.fail(reporter.failure)
    return result


def _interrupted(result: RunResult, step: StepScope | None) -> None:
    key = _send_in_flight(step) if step is not None else None
    if key is None:
        result.error = (
            "interrupted; no send was in flight. `waiaas-run run --resume` continues the "
            "run after its finished steps"
        )
        return
    result.unknown_send = True
    result.error = (
        f"interrupted while send {key} was in flight: its request may have reached the "
        "daemon, so its outcome is unknown. `waiaas-run run --resume` settles it: it waits "
        "until the request would have timed out, then looks for it in the daemon's "
        "transaction list before posting anything"
    )


class _Guarded:
    """A reporter that cannot break a run: output is for people, the ledger is the record.
    A reporter that fails (a closed pipe, a bug) is logged and the run goes on."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.failure: RunnerError | None = None  # the run then ends with exit 1: output lost

    def _safely(self, what: str, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception as error:
            self.failure = RunnerError(
                mask_secrets(
                    f"showing {what} failed ({type(error).__name__}: {error}); "
                    "`waiaas-run history` has the run's record"
                )
            )
            log.warning("%s", self.failure)

    def step_started(self, index: int, step_id: str, label: str) -> None:
        self._safely(step_id, lambda: self.reporter.step_started(index, step_id, label))

    def step_finished(self, result: StepResult) -> None:
        self._safely(result.step_id, lambda: self.reporter.step_finished(result))

    def log(self, level: str, message: str) -> None:
        self._safely("a log line", lambda: self.reporter.log(level, message))

    def run_finished(self, result: RunResult) -> None:
        self._safely("the run's end", lambda: self.reporter.run_finished(result))


async def _run_steps(
    run: Run,
    reporter: Reporter,
    result: RunResult,
    resume: Mapping[str, StepRecord],
    current: list[StepScope],
) -> None:
    records = _Records(run, result)
    steps = run.scope.playbook.steps
    try:
        for index, step in enumerate(steps):
            step_id = step_id_of(step, index, steps)
            earlier = resume.get(step_id)
            if earlier is not None and earlier.status in (StepStatus.OK, StepStatus.SKIPPED):
                step_result = _resumed(run, step, index, step_id, earlier)
            else:
                reporter.step_started(index, step_id, step.name or step_id)
                # what decided this send is on disk before it posts
                if step.sends and not records.flush():
                    return
                current.append(run.step(step_id))
                step_result = await _run_one(run, current[-1], step, index)
                current.pop()
                records.add(step_result)
                if step.sends:
                    records.flush()
            result.steps.append(step_result)
            reporter.step_finished(step_result)
            if step_result.status is StepStatus.UNKNOWN:
                result.unknown_send = True
                return
            if (broken := run.scope.ledger.broken) is not None:  # no step after that
                result.fail(broken, f"{broken}; the run stopped after step {step_id}")
                return
            if step_result.status is StepStatus.FAILED and not step_result.tolerated:
                return
    finally:
        records.flush()


class _Records:
    """Step results on their way to the ledger, written in batches.

    One commit per step would cost more than the step's HTTP call; a read step whose
    record is lost in a crash just runs again on --resume. Around every send the batch is
    written, and send intents themselves are committed by the send protocol.
    """

    def __init__(self, run: Run, result: RunResult) -> None:
        self.scope = run.scope
        self.result = result
        self.pending: list[StepRecord] = []

    def add(self, result: StepResult) -> None:
        if self.scope.planning:
            return
        finished = self.scope.clock()
        self.pending.append(
            StepRecord(
                step_id=result.step_id,
                status=result.status.value,
                output=encode(result.values),
                error=result.reason,
                started_at=finished - result.duration,
                finished_at=finished,
            )
        )

    def flush(self) -> bool:
        """Write what is pending; False (and the run's error noted) when the ledger could
        not take it. Never raises: whatever the run is reporting must not be lost to it."""
        if not self.pending:
            return True
        try:
            self.scope.ledger.save_steps(self.pending, self.scope.run_id)
        except LedgerError as error:
            self.result.fail(error, f"{error}; nothing more was sent")
            return False
        finally:
            self.pending = []
        return True


def _failure(scope: StepScope, error: Exception) -> tuple[StepStatus, Mapping[str, Any], str]:
    """What a step's failure means: its status, what it still reported, and why."""
    if isinstance(error, StepFailed):
        return StepStatus.FAILED, error.output, error.message
    if isinstance(error, LedgerError):  # a send's protocol turns later ones into unknown
        return StepStatus.FAILED, {}, f"{error}; nothing was sent"
    if exit_code_of(error) is ExitCode.UNKNOWN_SEND:
        return StepStatus.UNKNOWN, {}, str(error)
    known = isinstance(error, RunnerError | WAIaaSError)
    if not known:  # a bug of ours: say so, keep the record
        log.debug("step %s: internal error", scope.step_id, exc_info=error)
    reason = (
        str(error)
        if known
        else (f"internal error in waiaas-runner ({type(error).__name__}: {error})")
    )
    if (key := _send_in_flight(scope)) is not None:  # the request may have left
        return StepStatus.UNKNOWN, {}, str(SendStateUnknown(key, reason))
    return StepStatus.FAILED, {}, reason if known else f"{reason}; please report it"


async def _run_one(run: Run, scope: StepScope, step: StepModel, index: int) -> StepResult:
    started = run.scope.clock()

    def result(status: StepStatus, values: dict[str, Value], reason: str | None) -> StepResult:
        run.values.outputs[scope.step_id] = values
        return StepResult(
            index=index,
            step_id=scope.step_id,
            kind=step.kind,
            label=step.name or scope.step_id,
            sends=step.sends,
            status=status,
            duration=run.scope.clock() - started,
            reason=None if reason is None else mask_secrets(reason),
            values=values,
            tolerated=status is StepStatus.FAILED and step.continue_on_error,
        )

    def safely(status: StepStatus, output: Mapping[str, Any], reason: str | None) -> StepResult:
        """The step's result; if even recording it fails, one that keeps its status."""
        try:
            values = _outputs(run, step, output, skipped=status is StepStatus.SKIPPED)
            return result(status, values, reason)
        except Exception as error:
            log.debug("step %s: recording failed", scope.step_id, exc_info=error)
            problem = f"internal error recording the step ({type(error).__name__}: {error})"
            bad = StepStatus.UNKNOWN if status is StepStatus.UNKNOWN else StepStatus.FAILED
            return result(bad, {"skipped": False}, f"{reason}; {problem}" if reason else problem)

    try:
        if step.if_ is not None and not truth(scope.evaluate(step.if_)):
            return safely(StepStatus.SKIPPED, {}, f"if: {step.if_.source} is false")
        seconds = step.timeout.total_seconds() if step.timeout is not None else None
        if step.sends and not run.scope.planning:
            await wait_for_interrupted_request(scope)
        try:
            async with asyncio.timeout(seconds), _retry_override(run, step):
                output = await RUNNERS[step.kind](step, scope)
        except TimeoutError:
            if (key := _send_in_flight(scope)) is not None:
                raise SendStateUnknown(key, f"the step timed out after {seconds:g}s") from None
            raise StepFailed(f"timed out after {seconds:g}s (timeout: on the step)") from None
    except Exception as error:  # every failure ends recorded, never as a traceback
        return safely(*_failure(scope, error))
    return safely(StepStatus.OK, output, None)


@contextlib.asynccontextmanager
async def _retry_override(run: Run, step: StepModel) -> AsyncIterator[None]:
    """A step's ``retry:`` replaces the client's retry policy while that step runs."""
    override = step.retry
    if override is None:
        yield
        return
    client = run.scope.client
    policy = client.retry_policy
    changes: dict[str, Any] = {"max_retries": override.attempts}
    if override.delay is not None:
        changes["base_delay"] = override.delay.total_seconds()
    if override.max_delay is not None:
        changes["max_delay"] = override.max_delay.total_seconds()
    client.retry_policy = dataclasses.replace(policy, **changes)
    try:
        yield
    finally:
        client.retry_policy = policy


def _send_in_flight(scope: StepScope) -> str | None:
    """The step's send key when it was interrupted after its intent was written: the
    request may have reached the daemon, so the send is in an unknown state."""
    if scope.run.planning:
        return None
    try:
        intent = scope.run.ledger.send(str(scope.send_key))
    except LedgerError:  # unreadable: the worst must be assumed of a send step
        return str(scope.send_key) if _sends(scope) else None
    return intent.key if intent is not None and intent.state is SendState.INTENDED else None


def _sends(scope: StepScope) -> bool:
    step_id = scope.step_id
    steps = scope.run.playbook.steps
    return any(
        step.sends and step_id_of(step, index, steps) == step_id for index, step in enumerate(steps)
    )


def _outputs(
    run: Run, step: StepModel, output: Mapping[str, Any], *, skipped: bool
) -> dict[str, Value]:
    # Every declared output exists, null when the step did not produce it, so conditions
    # on a skipped or failed step read null instead of crashing.
    declared = run.declared_outputs.get(id(step))
    if declared is None:
        declared = run.declared_outputs[id(step)] = list(step.declared_outputs(run.scope.facts))
    values: dict[str, Value] = dict.fromkeys(declared)
    values.update({name: normalize(value) for name, value in output.items()})
    values["skipped"] = skipped
    return values


def _resumed(run: Run, step: StepModel, index: int, step_id: str, record: StepRecord) -> StepResult:
    decoded = decode(record.output or {})
    values: dict[str, Value] = dict(decoded) if isinstance(decoded, dict) else {}
    run.values.outputs[step_id] = values
    amount, raw = values.get("amount"), values.get("raw")
    if step.sends and values.get("sent") is True and isinstance(amount, Amount):
        # the earlier attempt's send still counts against this run's limits
        network = values.get("network")
        run.tallies.count(
            amount.symbol, int(str(raw)), network if isinstance(network, str) else None
        )
    return StepResult(
        index=index,
        step_id=step_id,
        kind=step.kind,
        label=step.name or step_id,
        sends=step.sends,
        status=StepStatus(record.status),
        duration=0.0,
        reason="finished in an earlier attempt of this run",
        values=values,
        resumed=True,
    )
