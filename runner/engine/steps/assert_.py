"""Running ``assert``: stop the run (exit 1) when the condition is false."""

from __future__ import annotations

from runner.engine.steps.base import StepContext, StepOutput
from runner.errors import StepFailed
from runner.playbook import truth
from runner.playbook.steps.assert_ import AssertStep
from runner.playbook.values import format_value


async def run(step: AssertStep, scope: StepContext) -> StepOutput:
    """In a plan, an assertion that reads what only a run knows (the outcome of a wait:
    a plan sends nothing, so it waits for nothing) is not judged: ``passed`` is null."""
    read = [
        step.assert_,
        *(p.expression for p in (step.message.placeholders if step.message else [])),
    ]
    if unknown := scope.known_only_in_a_run(read):
        reads = ", ".join(f"steps.{name}" for name in unknown)
        scope.log("info", f"plan: not judged (it reads {reads}, known only in a run)")
        return {"passed": None, "message": None}
    if truth(scope.evaluate(step.assert_)):
        return {"passed": True, "message": None}
    if step.message is not None:
        message = format_value(scope.render(step.message))
    else:
        message = f"assertion failed: {step.assert_.source}"
    raise StepFailed(message, {"passed": False, "message": message})
