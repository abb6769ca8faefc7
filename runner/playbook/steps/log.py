"""``log``: write a line to the run record (and the console)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from runner.playbook.exprtypes import STRING, ExprType
from runner.playbook.fields import TemplateText
from runner.playbook.steps.base import StepModel


class LogStep(StepModel):
    kind: ClassVar[str] = "log"
    outputs: ClassVar[dict[str, ExprType]] = {"message": STRING}
    log: TemplateText = Field(description="text with ${{ }} placeholders")
    level: Literal["info", "warning", "error"] = "info"
