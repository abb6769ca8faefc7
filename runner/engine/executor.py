"""Carrying out a playbook: steps in order, conditions, timeouts, results, the record."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from runner.client import WAIaaSError
from runner.engine.context import RunContext
from runner.engine.results import RunResult, StepResult, StepStatus
from runner.engine.values import decode, encode, plain
from runner.ledger import StepRecord
from runner.playbook import EvaluationError, truth
from runner.playbook.values import Value, normalize
from runner.steps.base import Runnable, StepModel
from runner.steps.errors import SendStateUnknown, StepFailed

__all__ = ["Reporter", "execute", "step_id_of"]


class Reporter(Protocol):
    """Where progress goes (a terminal, JSON lines, nowhere)."""

    def step_started(self, index: int, step_id: str, label: str) -> None: ...

    def step_finished(self, result: StepResult) -> None: ...

    def log(self, level: str, message: str) -> None: ...

    def run_finished(self, result: RunResult) -> None: ...


def step_id_of(step: StepModel, index: int) -> str:
    """A step's id; unnamed steps get ``<kind>-<position>`` (give sends an id of their own)."""
    return step.id or f"{step.kind}-{index + 1}"


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
    result.duration = context.clock() - started
    reporter.run_finished(result)
    return result


async def _run_steps(
    context: RunContext,
    reporter: Reporter,
    result: RunResult,
    resume: Mapping[str, StepRecord],
) -> None:
    for index, step in enumerate(context.playbook.steps):
        step_id = step_id_of(step, index)
        context.step_id = step_id
        earlier = resume.get(step_id)
        if earlier is not None and earlier.status in (StepStatus.OK, StepStatus.SKIPPED):
            step_result = _resumed(context, step, index, step_id, earlier)
        else:
            reporter.step_started(index, step_id, step.name or step_id)
            step_result = await _run_one(context, step, index, step_id)
            _record(context, step_result)
        result.steps.append(step_result)
        reporter.step_finished(step_result)
        if step_result.status is StepStatus.UNKNOWN:
            result.unknown_send = True
            return
        if step_result.status is StepStatus.FAILED and not step_result.tolerated:
            return


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
            reason=reason,
            output={name: plain(value) for name, value in values.items()},
            tolerated=status is StepStatus.FAILED and step.continue_on_error,
        )

    try:
        if step.if_ is not None and not truth(context.evaluate(step.if_)):
            return finish(StepStatus.SKIPPED, {}, f"if: {step.if_.source} is false")
        seconds = step.timeout.total_seconds() if step.timeout is not None else None
        try:
            async with asyncio.timeout(seconds):
                output = await _runnable(step).run(context)
        except TimeoutError:
            raise StepFailed(f"timed out after {seconds:g}s (timeout: on the step)") from None
    except SendStateUnknown as unknown:
        return finish(StepStatus.UNKNOWN, {}, str(unknown))
    except StepFailed as failure:
        return finish(StepStatus.FAILED, failure.output, failure.message)
    except (WAIaaSError, EvaluationError) as error:
        return finish(StepStatus.FAILED, {}, str(error))
    return finish(StepStatus.OK, output, None)


def _runnable(step: StepModel) -> Runnable:
    assert isinstance(step, Runnable), f"step kind {step.kind} has no run()"
    return step


def _outputs(
    context: RunContext, step: StepModel, output: Mapping[str, Any], *, skipped: bool
) -> dict[str, Value]:
    # Every declared output exists, null when the step did not produce it, so conditions
    # on a skipped or failed step read null instead of crashing.
    values: dict[str, Value] = dict.fromkeys(step.declared_outputs(context.facts))
    values.update({name: normalize(value) for name, value in output.items()})
    values["skipped"] = skipped
    return values


def _record(context: RunContext, result: StepResult) -> None:
    if context.ledger is None or context.planning:
        return
    context.ledger.save_step(
        context.run_id,
        result.step_id,
        result.status.value,
        encode(context.outputs.get(result.step_id, {})),
        result.reason,
        context.clock() - result.duration,
    )


def _resumed(
    context: RunContext, step: StepModel, index: int, step_id: str, record: StepRecord
) -> StepResult:
    decoded = decode(record.output or {})
    values: dict[str, Value] = dict(decoded) if isinstance(decoded, dict) else {}
    context.outputs[step_id] = values
    return StepResult(
        index=index,
        step_id=step_id,
        kind=step.kind,
        label=step.name or step_id,
        status=StepStatus(record.status),
        duration=0.0,
        reason="finished in an earlier attempt of this run",
        output={name: plain(value) for name, value in values.items()},
        resumed=True,
    )
