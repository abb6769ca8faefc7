"""What a run produced: one result per step, and the run's exit code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from runner.engine.values import plain
from runner.errors import ExitCode, exit_code_of
from runner.playbook.values import Value

__all__ = ["ExitCode", "RunResult", "StepResult", "StepStatus"]


class StepStatus(StrEnum):
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"
    UNKNOWN = "unknown"  # a send whose outcome could not be established


@dataclass(frozen=True)
class StepResult:
    index: int
    step_id: str
    kind: str
    label: str
    sends: bool  # the step's kind moves money
    status: StepStatus
    duration: float
    reason: str | None = None
    values: Mapping[str, Value] = field(default_factory=dict)  # what expressions read
    tolerated: bool = False  # failed, but continue_on_error let the run go on
    resumed: bool = False  # taken from the ledger of an earlier attempt of this run

    @cached_property
    def output(self) -> dict[str, Any]:
        """The outputs as plain JSON values, for people and reports (computed on demand)."""
        return {name: plain(value) for name, value in self.values.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "step",
            "index": self.index,
            "id": self.step_id,
            "kind": self.kind,
            "name": self.label,
            "status": self.status.value,
            "duration": round(self.duration, 4),
            "reason": self.reason,
            "tolerated": self.tolerated,
            "resumed": self.resumed,
            "output": self.output,
        }


@dataclass
class RunResult:
    playbook: str
    run_id: str
    mode: str  # "run" or "plan"
    steps: list[StepResult] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None  # a failure outside any step (daemon unreachable, timeout)
    unknown_send: bool = False
    # the exit code ``error`` calls for, when it is not a plain failure (a damaged ledger: 2)
    error_code: ExitCode = ExitCode.FAILED

    @property
    def exit_code(self) -> ExitCode:
        if self.unknown_send:
            return ExitCode.UNKNOWN_SEND
        if self.error:
            return max(ExitCode.FAILED, self.error_code)
        failed = any(s.status is StepStatus.FAILED and not s.tolerated for s in self.steps)
        return ExitCode.FAILED if failed else ExitCode.OK

    def fail(self, error: BaseException, message: str | None = None) -> None:
        """Note a failure outside any step; the first one is kept, with its exit code."""
        if self.error is None:
            self.error = message or str(error)
            self.error_code = exit_code_of(error)

    def counts(self) -> dict[str, int]:
        counted = {status.value: 0 for status in StepStatus}
        for step in self.steps:
            counted[step.status.value] += 1
        return counted

    def summary(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in self.counts().items() if n)
        verdict = {
            ExitCode.OK: "ok",
            ExitCode.FAILED: "failed",
            ExitCode.UNKNOWN_SEND: "NEEDS ATTENTION: a send is in an unknown state",
            ExitCode.INVALID: "invalid",
        }[self.exit_code]
        text = f"{self.playbook} ({self.mode} {self.run_id}): {verdict}"
        text += f" — {counts or 'no steps'} in {self.duration:.2f}s"
        return text + (f" — {self.error}" if self.error else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "summary",
            "playbook": self.playbook,
            "run_id": self.run_id,
            "mode": self.mode,
            "exit_code": int(self.exit_code),
            "steps": self.counts(),
            "duration": round(self.duration, 4),
            "error": self.error,
        }
