"""Running ``log``: write a line to the run record (and the console)."""

from __future__ import annotations

from runner.engine.steps.base import StepContext, StepOutput
from runner.playbook.steps.log import LogStep
from runner.playbook.values import format_value


async def run(step: LogStep, scope: StepContext) -> StepOutput:
    message = format_value(scope.render(step.log))
    scope.log(step.level, message)
    return {"message": message}
