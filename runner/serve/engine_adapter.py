"""Serve's one door into the engine: run a playbook for a slot, and find its daemon.

Everything serve needs from ``runner.engine`` is imported here and nowhere else in
``runner.serve``, so a change of the engine's layout touches this module only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

from runner.client import ConnectInfo, RetryPolicy
from runner.engine.audit import (
    AuditReport,
    AuditSettings,
    AuditSource,
    audit,
    finding_json,
)
from runner.engine.launch import Connection, LaunchOptions, launch, resolve_connection
from runner.engine.results import RunResult, StepResult, StepStatus
from runner.engine.webhook import WebhookError, post_event
from runner.errors import LockBusy, UsageError
from runner.playbook import Playbook

__all__ = [
    "AuditReport",
    "AuditSettings",
    "AuditSource",
    "Connection",
    "LaunchOptions",
    "RetryPolicy",
    "RunOutcome",
    "UsageError",
    "WebhookError",
    "audit",
    "connection_for",
    "finding_json",
    "post_event",
    "run_for_slot",
]

log = logging.getLogger("runner.serve")


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    outcome: str  # ok, failed, unknown (a send needs a person), invalid, locked
    reason: str | None = None
    sends: dict[str, int] = field(default_factory=dict)  # sent / adopted / failed / unknown
    exit_code: int = 0


def connection_for(playbook: Playbook, path: Path, options: LaunchOptions) -> Connection:
    return resolve_connection(playbook, path, options)


async def run_for_slot(
    playbook: Playbook,
    path: Path,
    options: LaunchOptions,
    *,
    run_id: str,
    slot: datetime,
    connection: tuple[str, str],
    http_client: httpx.AsyncClient,
    connect_info: Callable[[], Awaitable[ConnectInfo]] | None = None,
) -> RunOutcome:
    """One run of ``playbook`` for ``slot`` (continued if the ledger has it already)."""
    options = dataclasses.replace(
        options,
        run_id=run_id,
        scheduled_for=slot,
        connection=connection,
        http_client=http_client,
        connect_info=connect_info,
        resume=False,
    )
    reporter = _LogReporter(playbook.name, run_id)
    try:
        result = await launch(playbook, path, "run", options, reporter)
    except UsageError as error:
        return RunOutcome(run_id, "invalid", str(error), exit_code=2)
    except LockBusy as error:
        return RunOutcome(run_id, "locked", str(error), exit_code=1)
    return RunOutcome(
        run_id,
        _outcome(result),
        _reason(result),
        _sends(result.steps),
        int(result.exit_code),
    )


def _outcome(result: RunResult) -> str:
    if result.unknown_send:
        return "unknown"
    return "failed" if result.exit_code else "ok"


def _reason(result: RunResult) -> str | None:
    if result.error:
        return result.error
    for step in result.steps:
        if step.status in (StepStatus.FAILED, StepStatus.UNKNOWN) and not step.tolerated:
            return f"step {step.step_id}: {step.reason}"
    return None


def _sends(steps: list[StepResult]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for step in steps:
        if not step.sends or step.resumed or step.status is StepStatus.SKIPPED:
            continue
        if step.status is StepStatus.OK:
            if not step.output.get("sent"):
                continue
            outcome = "adopted" if step.output.get("adopted") else "sent"
        else:
            outcome = step.status.value  # failed / unknown
        counted[outcome] = counted.get(outcome, 0) + 1
    return counted


class _LogReporter:
    """The engine's progress, as serve log lines: failures and warnings only (one line
    per fire is written by serve itself)."""

    def __init__(self, playbook: str, run_id: str) -> None:
        self._fields = {"playbook": playbook, "run_id": run_id}

    def step_started(self, index: int, step_id: str, label: str) -> None:
        pass

    def step_finished(self, result: StepResult) -> None:
        if result.status in (StepStatus.FAILED, StepStatus.UNKNOWN):
            level = logging.ERROR if result.status is StepStatus.UNKNOWN else logging.WARNING
            log.log(
                level,
                "step %s %s: %s",
                result.step_id,
                result.status.value,
                result.reason,
                extra={"fields": {**self._fields, "step": result.step_id}},
            )

    def log(self, level: str, message: str) -> None:
        log.log(logging.getLevelName(level.upper()), "%s", message, extra={"fields": self._fields})

    def run_finished(self, result: RunResult) -> None:
        pass
