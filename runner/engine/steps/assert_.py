"""Running ``assert``: stop the run (exit 1) when the condition is false."""

from __future__ import annotations

from runner.engine.steps.base import StepContext, StepOutput
from runner.errors import StepFailed
from runner.playbook import truth
from runner.playbook.steps.assert_ import AssertStep
from runner.playbook.values import format_value


async def run(step: AssertStep, scope: StepContext) -> StepOutput:
    if truth(scope.evaluate(step.assert_)):
        return {"passed": True, "message": None}
    if step.message is not None:
        message = format_value(scope.render(step.message))
    else:
        message = f"assertion failed: {step.assert_.source}"
    raise StepFailed(message, {"passed": False, "message": message})
