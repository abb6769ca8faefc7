"""``assert``: stop the run (exit 1) when a condition is false."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from runner.playbook.evaluate import truth
from runner.playbook.exprtypes import BOOL, STRING, ExprType
from runner.playbook.fields import Condition, TemplateText
from runner.playbook.values import format_value
from runner.steps.base import StepContext, StepModel, StepOutput
from runner.steps.errors import StepFailed


class AssertStep(StepModel):
    kind: ClassVar[str] = "assert"
    outputs: ClassVar[dict[str, ExprType]] = {"passed": BOOL, "message": STRING}
    assert_: Condition = Field(alias="assert", description="e.g. steps.backlog.count < 5")
    message: TemplateText | None = Field(None, description="shown when the condition is false")

    async def run(self, context: StepContext) -> StepOutput:
        if truth(context.evaluate(self.assert_)):
            return {"passed": True, "message": None}
        if self.message is not None:
            message = format_value(context.render(self.message))
        else:
            message = f"assertion failed: {self.assert_.source}"
        raise StepFailed(message, {"passed": False, "message": message})
