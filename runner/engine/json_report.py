"""Showing a run to a machine: JSON lines, one ``step`` event per step and a ``summary``.

Everything written passes through ``mask_secrets``. Kept apart from the terminal reporter
so that ``--output json`` does not import rich.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from runner.engine.results import RunResult, StepResult
from runner.playbook.diagnostics import mask_secrets

__all__ = ["JsonReporter"]


class JsonReporter:
    """JSON lines: one ``step`` event per step, ``log`` events, a ``summary`` last."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def _emit(self, event: dict[str, Any]) -> None:
        text = json.dumps(event, ensure_ascii=False, default=str)
        self.stream.write(mask_secrets(text) + "\n")
        self.stream.flush()

    def step_started(self, index: int, step_id: str, label: str) -> None:
        return None

    def step_finished(self, result: StepResult) -> None:
        self._emit(result.to_json())

    def log(self, level: str, message: str) -> None:
        self._emit({"event": "log", "level": level, "message": message})

    def run_finished(self, result: RunResult) -> None:
        self._emit(result.to_json())
