"""Running ``notify``: post a message to a webhook."""

from __future__ import annotations

from runner.engine.scope import StepScope
from runner.engine.steps.base import StepOutput
from runner.engine.webhook import WebhookError, post_event
from runner.errors import StepFailed
from runner.playbook.steps.notify import NotifyStep


async def run(step: NotifyStep, scope: StepScope) -> StepOutput:
    settings = step.notify
    playbook = scope.run.playbook
    message = scope.render_text(settings.message)
    target = settings.webhook or (playbook.notify.webhook if playbook.notify else None)
    if target is None:
        raise StepFailed("notify: no webhook (set notify.webhook on the step or the playbook)")
    if scope.run.planning:
        scope.log("info", f"plan: would notify: {message}")
        return {"delivered": False}
    event = {
        "event": "notify",
        "playbook": playbook.name,
        "run_id": scope.run.run_id,
        "step": scope.step_id,
        "message": message,
    }
    try:
        await post_event(scope.render_text(target), event, sleep=scope.run.sleep)
    except WebhookError as error:
        raise StepFailed(f"notify: {error}", {"delivered": False}) from None
    return {"delivered": True}
