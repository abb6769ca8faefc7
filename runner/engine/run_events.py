"""The playbook's ``notify:`` hook: a webhook told about failures, sends and successes.

Posted after the run, from what the run recorded; a webhook that fails is logged and never
changes the run's result (it must not hide a send).
"""

from __future__ import annotations

import logging
from typing import Any

from runner.engine.results import RunResult, StepStatus
from runner.engine.scope import Run
from runner.engine.webhook import WebhookError, post_event

__all__ = ["notify_run"]

log = logging.getLogger("runner.engine")


def _events(result: RunResult, wanted: list[str]) -> list[dict[str, Any]]:
    base = {"playbook": result.playbook, "run_id": result.run_id, "summary": result.summary()}
    events: list[dict[str, Any]] = []
    if "send" in wanted:
        for step in result.steps:
            if step.sends and step.status is StepStatus.OK and step.output.get("sent"):
                events.append({"event": "send", "step": step.step_id, **base, **step.output})
    if "failure" in wanted and result.exit_code:
        failed = [s for s in result.steps if s.status in (StepStatus.FAILED, StepStatus.UNKNOWN)]
        events.append(
            {
                "event": "failure",
                "exit_code": int(result.exit_code),
                "steps": [{"step": s.step_id, "reason": s.reason} for s in failed],
                **base,
            }
        )
    if "success" in wanted and not result.exit_code:
        events.append({"event": "success", **base})
    return events


async def notify_run(run: Run, result: RunResult) -> None:
    notify = run.scope.playbook.notify
    if notify is None or run.scope.planning:
        return
    url = run.values.render_text(notify.webhook)
    if not url.strip():  # an optional env var left empty: notifications are off
        log.info("notify: the webhook is empty; no events posted")
        return
    for event in _events(result, list(notify.on)):
        try:
            await post_event(url, event, sleep=run.scope.sleep)
        except WebhookError as error:
            log.warning("notify (%s event): %s", event["event"], error)
