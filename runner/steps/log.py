"""``log``: write a line to the run record (and the console)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from runner.playbook.exprtypes import STRING, ExprType
from runner.playbook.fields import TemplateText
from runner.playbook.values import format_value
from runner.steps.base import StepContext, StepModel, StepOutput


class LogStep(StepModel):
    kind: ClassVar[str] = "log"
    outputs: ClassVar[dict[str, ExprType]] = {"message": STRING}
    log: TemplateText = Field(description="text with ${{ }} placeholders")
    level: Literal["info", "warning", "error"] = "info"

    async def run(self, context: StepContext) -> StepOutput:
        message = format_value(context.render(self.log))
        context.log(self.level, message)
        return {"message": message}
