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
    """Post the run's events; whatever goes wrong here is logged, never raised (the run,
    and maybe a send, already happened). An empty webhook URL turns the hook off."""
    notify = run.scope.playbook.notify
    if notify is None or run.scope.planning:
        return
    try:
        url = run.values.render_text(notify.webhook)
    except Exception as error:
        log.warning("notify: no events posted (%s: %s)", type(error).__name__, error)
        return
    if not url.strip():
        log.warning("notify: the webhook URL is empty, so no events are posted")
        return
    events: list[dict[str, Any]] = []
    for kind in notify.on:  # one kind that cannot be built must not stop the others
        try:
            events += _events(result, [kind])
        except Exception as error:
            log.warning("notify (%s events): %s: %s", kind, type(error).__name__, error)
    for event in events:
        try:
            await post_event(url, event, sleep=run.scope.sleep)
        except WebhookError as error:
            log.warning("notify (%s event): %s", event["event"], error)
        except Exception as error:  # a bug of ours: the next event may still go out
            log.warning("notify (%s event): %s: %s", event["event"], type(error).__name__, error)
