"""Showing a run on a terminal: a live line per step (rich), then the summary.

(JSON lines for machines are :mod:`runner.engine.json_report`, which does not load rich:
a cron run with ``--output json`` never pays for the terminal library.)

Everything printed passes through ``mask_secrets``: a session token that reached a value
(an env var rendered into a memo, say) is still never shown.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from runner.engine.json_report import JsonReporter
from runner.engine.results import RunResult, StepResult, StepStatus
from runner.playbook.diagnostics import mask_secrets

__all__ = ["JsonReporter", "TextReporter"]

_MARKS = {
    StepStatus.OK: "[green]✓[/]",
    StepStatus.SKIPPED: "[dim]-[/]",
    StepStatus.FAILED: "[red]✗[/]",
    StepStatus.UNKNOWN: "[bold red]?[/]",
}
# outputs too bulky for a one-line summary of a step (a message is printed as its own line)
_BULKY = {"items", "ids", "skipped", "symbols", "balances", "limits", "warnings", "from", "message"}


# what a person looks at first, per kind of output; the rest follows in declared order
_FIRST = (
    "would_send",
    "adopted",
    "sent",
    "status",
    "tier",
    "reached",
    "amount",
    "to",
    "id",
    "count",
    "passed",
)
# shown only when true: a plan never sends, and most sends are not adopted
_ONLY_WHEN_TRUE = {"sent", "adopted"}


def _highlights(output: dict[str, Any], limit: int = 6) -> str:
    names = [n for n in _FIRST if n in output] + [n for n in output if n not in _FIRST]
    if output.get("adopted") is True:
        # an adopted send was not posted now: say only "adopted"
        names = [n for n in names if n != "sent"]
    shown = [
        f"{name}={output[name]}"
        for name in names
        if name not in _BULKY
        and output[name] not in (None, "", [])
        and (name not in _ONLY_WHEN_TRUE or output[name] is True)
    ]
    return "  ".join(shown[:limit])


class TextReporter:
    """One line per step (a spinner while it runs on a terminal), then the summary."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self._status: Status | None = None

    def _print(self, text: str) -> None:
        self.console.print(mask_secrets(text))

    def step_started(self, index: int, step_id: str, label: str) -> None:
        if self.quiet or not self.console.is_terminal:
            return
        self._status = self.console.status(escape(mask_secrets(f"{step_id}: {label}")))
        self._status.start()

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def step_finished(self, result: StepResult) -> None:
        self._stop_status()
        if self.quiet:
            return
        name = (
            result.step_id
            if result.label == result.step_id
            else f"{result.step_id} ({result.label})"
        )
        line = f"{_MARKS[result.status]} {escape(name)}  [dim]{result.duration:.2f}s[/]"
        if result.resumed:
            line += "  [dim](from the earlier attempt)[/]"
        if result.status is StepStatus.OK:
            details = _highlights(result.output)
            line += f"  {escape(details)}" if details else ""
        elif result.reason:
            tolerated = " (continue_on_error)" if result.tolerated else ""
            line += f"  {escape(result.reason)}{tolerated}"
        self._print(line)

    def log(self, level: str, message: str) -> None:
        if not self.quiet:
            style = {"warning": "yellow", "error": "red"}.get(level, "dim")
            self._print(f"  [{style}]{escape(message)}[/]")

    def run_finished(self, result: RunResult) -> None:
        self._stop_status()
        style = {0: "green", 1: "red", 3: "bold red"}.get(int(result.exit_code), "red")
        self._print(f"[{style}]{escape(result.summary())}[/]")
