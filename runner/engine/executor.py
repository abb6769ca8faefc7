"""Carrying out a playbook: steps in order, conditions, timeouts, results, the record."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol, cast

from runner.client import WAIaaSError
from runner.engine.context import RunContext
from runner.engine.results import RunResult, StepResult, StepStatus
from runner.engine.values import decode, encode
from runner.ledger import SendState, StepRecord
from runner.playbook import Amount, EvaluationError, truth
from runner.playbook.diagnostics import mask_secrets
from runner.playbook.values import Value, normalize
from runner.steps.base import Runnable, StepModel
from runner.steps.errors import SendStateUnknown, StepFailed

__all__ = ["Reporter", "execute", "step_id_of"]

log = logging.getLogger("runner.engine")


class Reporter(Protocol):
    """Where progress goes (a terminal, JSON lines, nowhere)."""

    def step_started(self, index: int, step_id: str, label: str) -> None: ...

    def step_finished(self, result: StepResult) -> None: ...

    def log(self, level: str, message: str) -> None: ...

    def run_finished(self, result: RunResult) -> None: ...


def step_id_of(step: StepModel, index: int, steps: Sequence[StepModel] = ()) -> str:
    """A step's id. An unnamed send is named by what it sends (not by its position, which
    shifts when a step is added above it: its exactly-once key must not); other unnamed
    steps get ``<kind>-<position>``. Give sends an id of their own."""
    if step.id:
        return step.id
    if step.kind != "send":
        return f"{step.kind}-{index + 1}"
    fingerprint = _send_fingerprint(step)
    twins = sum(
        1
        for earlier in steps[:index]
        if not earlier.id and _send_fingerprint(earlier) == fingerprint
    )
    return f"send-{fingerprint}" + (f"-{twins + 1}" if twins else "")


def _send_fingerprint(step: StepModel) -> str:
    settings = getattr(step, "send", None)
    text = repr(
        [
            str(getattr(settings, name, None))
            for name in ("from_", "to", "amount", "memo", "network")
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:10]


async def execute(
    context: RunContext,
    reporter: Reporter,
    *,
    timeout: float | None = None,
    resume: Mapping[str, StepRecord] | None = None,
) -> RunResult:
    """Run every step of ``context.playbook``; never raises for a step's failure."""
    result = RunResult(context.playbook.name, context.run_id, context.mode)
    started = context.clock()
    try:
        async with asyncio.timeout(timeout):
            await _run_steps(context, reporter, result, resume or {})
    except TimeoutError:
        result.error = f"the run timed out after {timeout:g}s"
        if (key := _send_in_flight(context)) is not None:
            result.unknown_send = True
            result.error += f" while send {key} was in flight; --resume settles it"
    result.duration = context.clock() - started
    reporter.run_finished(result)
    return result


async def _run_steps(
    context: RunContext,
    reporter: Reporter,
    result: RunResult,
    resume: Mapping[str, StepRecord],
) -> None:
    records = _Records(context)
    try:
        for index, step in enumerate(context.playbook.steps):
            step_id = step_id_of(step, index, context.playbook.steps)
            context.step_id = step_id
            earlier = resume.get(step_id)
            if earlier is not None and earlier.status in (StepStatus.OK, StepStatus.SKIPPED):
                step_result = _resumed(context, step, index, step_id, earlier)
            else:
                reporter.step_started(index, step_id, step.name or step_id)
                if step.kind == "send":  # what decided this send is on disk before it posts
                    records.flush()
                step_result = await _run_one(context, step, index, step_id)
                records.add(step_result)
                if step.kind == "send":
                    records.flush()
            result.steps.append(step_result)
            reporter.step_finished(step_result)
            if step_result.status is StepStatus.UNKNOWN:
                result.unknown_send = True
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

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.pending: list[StepRecord] = []

    def add(self, result: StepResult) -> None:
        if self.context.ledger is None or self.context.planning:
            return
        finished = self.context.clock()
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

    def flush(self) -> None:
        if self.pending and self.context.ledger is not None:
            self.context.ledger.save_steps(self.pending, self.context.run_id)
            self.pending = []


async def _run_one(context: RunContext, step: StepModel, index: int, step_id: str) -> StepResult:
    started = context.clock()

    def finish(status: StepStatus, output: Mapping[str, Any], reason: str | None) -> StepResult:
        values = _outputs(context, step, output, skipped=status is StepStatus.SKIPPED)
        context.outputs[step_id] = values
        return StepResult(
            index=index,
            step_id=step_id,
            kind=step.kind,
            label=step.name or step_id,
            status=status,
            duration=context.clock() - started,
            reason=None if reason is None else mask_secrets(reason),
            values=values,
            tolerated=status is StepStatus.FAILED and step.continue_on_error,
        )

    try:
        if step.if_ is not None and not truth(context.evaluate(step.if_)):
            return finish(StepStatus.SKIPPED, {}, f"if: {step.if_.source} is false")
        seconds = step.timeout.total_seconds() if step.timeout is not None else None
        try:
            async with asyncio.timeout(seconds), _retry_override(context, step):
                output = await cast(Runnable, step).run(context)
        except TimeoutError:
            if (key := _send_in_flight(context)) is not None:
                raise SendStateUnknown(key, f"the step timed out after {seconds:g}s") from None
            raise StepFailed(f"timed out after {seconds:g}s (timeout: on the step)") from None
    except SendStateUnknown as unknown:
        return finish(StepStatus.UNKNOWN, {}, str(unknown))
    except StepFailed as failure:
        return finish(StepStatus.FAILED, failure.output, failure.message)
    except (WAIaaSError, EvaluationError) as error:
        return finish(StepStatus.FAILED, {}, str(error))
    except Exception as error:  # a bug of ours: say so, keep the record, no traceback
        log.debug("step %s: internal error", step_id, exc_info=True)
        reason = f"internal error in waiaas-runner ({type(error).__name__}: {error})"
        if (key := _send_in_flight(context)) is not None:
            return finish(StepStatus.UNKNOWN, {}, str(SendStateUnknown(key, reason)))
        return finish(StepStatus.FAILED, {}, f"{reason}; please report it")
    return finish(StepStatus.OK, output, None)


@contextlib.asynccontextmanager
async def _retry_override(context: RunContext, step: StepModel) -> AsyncIterator[None]:
    """A step's ``retry:`` replaces the client's retry policy while that step runs."""
    override = step.retry
    if override is None:
        yield
        return
    policy = context.client.retry_policy
    changes: dict[str, Any] = {"max_retries": override.attempts}
    if override.delay is not None:
        changes["base_delay"] = override.delay.total_seconds()
    if override.max_delay is not None:
        changes["max_delay"] = override.max_delay.total_seconds()
    context.client.retry_policy = dataclasses.replace(policy, **changes)
    try:
        yield
    finally:
        context.client.retry_policy = policy


def _send_in_flight(context: RunContext) -> str | None:
    """The current step's send key when it was interrupted after its intent was written:
    the request may have reached the daemon, so the send is in an unknown state."""
    if context.ledger is None or context.planning:
        return None
    intent = context.ledger.send(context.send_key())
    return intent.key if intent is not None and intent.state is SendState.INTENDED else None


def _outputs(
    context: RunContext, step: StepModel, output: Mapping[str, Any], *, skipped: bool
) -> dict[str, Value]:
    # Every declared output exists, null when the step did not produce it, so conditions
    # on a skipped or failed step read null instead of crashing.
    declared = context.declared_outputs.get(id(step))
    if declared is None:
        declared = context.declared_outputs[id(step)] = list(step.declared_outputs(context.facts))
    values: dict[str, Value] = dict.fromkeys(declared)
    values.update({name: normalize(value) for name, value in output.items()})
    values["skipped"] = skipped
    return values


def _resumed(
    context: RunContext, step: StepModel, index: int, step_id: str, record: StepRecord
) -> StepResult:
    decoded = decode(record.output or {})
    values: dict[str, Value] = dict(decoded) if isinstance(decoded, dict) else {}
    context.outputs[step_id] = values
    amount, raw = values.get("amount"), values.get("raw")
    if step.kind == "send" and values.get("sent") is True and isinstance(amount, Amount):
        # the earlier attempt's send still counts against this run's limits
        context.sent_this_run[amount.symbol] = context.sent_this_run.get(amount.symbol, 0) + int(
            str(raw)
        )
        context.sends_this_run += 1
    return StepResult(
        index=index,
        step_id=step_id,
        kind=step.kind,
        label=step.name or step_id,
        status=StepStatus(record.status),
        duration=0.0,
        reason="finished in an earlier attempt of this run",
        values=values,
        resumed=True,
    )
