"""``notify``: post a message to a webhook (default: the playbook's notify.webhook)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import Field

from runner.playbook.diagnostics import Diagnostic, KeyPath
from runner.playbook.exprtypes import BOOL, ExprType
from runner.playbook.fields import Model, TemplateText, TextValue
from runner.playbook.steps.base import Checker, StepModel


class NotifySettings(Model):
    message: TemplateText = Field(description="text with ${{ }} placeholders")
    webhook: TextValue | None = Field(None, description="URL; default the top-level notify.webhook")


class NotifyStep(StepModel):
    kind: ClassVar[str] = "notify"
    outputs: ClassVar[dict[str, ExprType]] = {"delivered": BOOL}
    notify: NotifySettings

    def check(self, path: KeyPath, checker: Checker) -> Iterator[Diagnostic]:
        if self.notify.webhook is None and checker.facts.playbook.notify is None:
            yield checker.diagnostic(
                (*path, "notify"), "no webhook: set webhook: here or a top-level notify:"
            )
