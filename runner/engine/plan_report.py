"""The review table of `waiaas-run plan`: every send that would happen, for a person.

Text shows the step lines and then a table; markdown is for a pull-request comment; JSON
adds one ``plan`` event (the sends) before the summary.
"""

from __future__ import annotations

from typing import Any, TextIO

from rich.markup import escape

from runner.engine.json_report import JsonReporter
from runner.engine.report import TextReporter
from runner.engine.results import RunResult, StepResult, StepStatus

__all__ = ["MarkdownPlanReporter", "PlanJsonReporter", "PlanTextReporter", "planned_sends"]

COLUMNS = ("step", "from", "to", "amount", "smallest units", "tier", "fee", "limits", "warnings")


def planned_sends(result: RunResult) -> list[dict[str, Any]]:
    """One row per send step that would post, with everything a reviewer checks."""
    rows = []
    for step in result.steps:
        if not step.sends or step.status is not StepStatus.OK:
            continue
        out = step.output
        to = f"{out['to_wallet']} ({out.get('to')})" if out.get("to_wallet") else out.get("to")
        rows.append(
            {
                "step": step.step_id,
                "from": out.get("from"),
                "to": to,
                "amount": out.get("amount"),
                "smallest units": str(out.get("raw")),
                "tier": out.get("tier") or "",
                "fee": out.get("fee") or "unknown",
                "limits": ", ".join(out.get("limits") or []) or "none",
                "warnings": "; ".join(out.get("warnings") or []),
            }
        )
    return rows


def _skipped_sends(result: RunResult) -> list[StepResult]:
    return [s for s in result.steps if s.sends and s.status is StepStatus.SKIPPED]


class PlanTextReporter(TextReporter):
    def run_finished(self, result: RunResult) -> None:
        self._stop_status()
        rows = planned_sends(result)
        if self.quiet:
            super().run_finished(result)
            return
        if rows:
            self._print("[bold]Sends this run would make[/] (nothing was sent):")
        else:
            self._print("No send would happen.")
        for row in rows:  # one block per send: a wide table would wrap in a terminal
            self._print(
                f"  [bold]{escape(row['step'])}[/]: {escape(str(row['from']))} -> "
                f"{escape(str(row['to']))}"
            )
            self._print(
                f"      amount {row['amount']} = {row['smallest units']} smallest units"
                f"  ·  tier {row['tier'] or '?'}  ·  fee {row['fee']}"
            )
            self._print(f"      limits: {escape(row['limits'])}")
            if row["warnings"]:
                self._print(f"      [yellow]warnings: {escape(row['warnings'])}[/]")
        for step in _skipped_sends(result):
            self._print(f"[dim]{step.step_id}: not sent ({step.reason})[/]")
        super().run_finished(result)


class PlanJsonReporter(JsonReporter):
    def run_finished(self, result: RunResult) -> None:
        self._emit({"event": "plan", "sends": planned_sends(result)})
        super().run_finished(result)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


class MarkdownPlanReporter(JsonReporter):
    """Prints nothing while running; one markdown document at the end."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)

    def step_finished(self, result: StepResult) -> None:
        return None

    def log(self, level: str, message: str) -> None:
        return None

    def run_finished(self, result: RunResult) -> None:
        lines = [f"### Plan: `{result.playbook}`", "", f"**{_cell(result.summary())}**", ""]
        rows = planned_sends(result)
        if rows:
            lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
            lines += ["| " + " | ".join(_cell(row[c]) for c in COLUMNS) + " |" for row in rows]
        else:
            lines.append("No send would happen.")
        lines += ["", "| step | kind | status | detail |", "|---|---|---|---|"]
        for step in result.steps:
            detail = step.reason or ""
            lines.append(
                f"| {_cell(step.step_id)} | {step.kind} | {step.status.value} | {_cell(detail)} |"
            )
        self.stream.write("\n".join(lines) + "\n")
