"""``assert``: stop the run (exit 1) when a condition is false."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from runner.playbook.exprtypes import BOOL, STRING, ExprType
from runner.playbook.fields import Condition, TemplateText
from runner.playbook.steps.base import StepModel


class AssertStep(StepModel):
    kind: ClassVar[str] = "assert"
    outputs: ClassVar[dict[str, ExprType]] = {"passed": BOOL, "message": STRING}
    assert_: Condition = Field(alias="assert", description="e.g. steps.backlog.count < 5")
    message: TemplateText | None = Field(None, description="shown when the condition is false")
