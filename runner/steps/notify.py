"""``notify``: post a message to a webhook (default: the playbook's notify.webhook)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from runner.playbook.exprtypes import BOOL, ExprType
from runner.playbook.fields import TemplateText, TextValue
from runner.steps.base import Model, StepModel, StepOutput
from runner.steps.errors import StepFailed

if TYPE_CHECKING:
    from runner.engine.context import RunContext


class NotifySettings(Model):
    message: TemplateText = Field(description="text with ${{ }} placeholders")
    webhook: TextValue | None = Field(None, description="URL; default the top-level notify.webhook")


class NotifyStep(StepModel):
    kind: ClassVar[str] = "notify"
    outputs: ClassVar[dict[str, ExprType]] = {"delivered": BOOL}
    notify: NotifySettings

    async def run(self, context: RunContext) -> StepOutput:
        from runner.engine.webhook import WebhookError, post_event  # see base.py

        settings = self.notify
        message = context.render_text(settings.message)
        target = settings.webhook or (
            context.playbook.notify.webhook if context.playbook.notify else None
        )
        if target is None:
            raise StepFailed("notify: no webhook (set notify.webhook on the step or the playbook)")
        if context.planning:
            context.log("info", f"plan: would notify: {message}")
            return {"delivered": False}
        event = {
            "event": "notify",
            "playbook": context.playbook.name,
            "run_id": context.run_id,
            "step": context.step_id,
            "message": message,
        }
        try:
            await post_event(context.render_text(target), event, sleep=context.sleep)
        except WebhookError as error:
            raise StepFailed(f"notify: {error}", {"delivered": False}) from None
        return {"delivered": True}
