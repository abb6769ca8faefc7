"""``waiaas-run ledger check``: read every page of the ledger and say whether it is sound;
the lifecycle commands (prune, vacuum, backup, export, stats) are in ledger_care.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from runner.cli._ledger_option import state_option
from runner.cli.ledger_care import (
    backup_command,
    export_command,
    prune_command,
    stats_command,
    vacuum_command,
)
from runner.ledger import default_ledger_path
from runner.ledger.connection import journal_advice, leftover_journal
from runner.ledger.health import check_file


@click.group("ledger")
def command() -> None:
    """Look after the run ledger."""


@command.command("check")
@state_option
def check(state: Path | None) -> None:
    """Full check of the ledger: SQLite's integrity_check and the ledger's own rules,
    on every page (every run does a cheap check of the newest part only). Exit 0 when
    sound, 2 when damaged. Reads only; safe beside running playbooks."""
    path = state or default_ledger_path()
    if not path.is_file():
        click.echo(f"no ledger at {path}", err=True)
        sys.exit(2)
    started = time.perf_counter()
    report = check_file(path)
    took = time.perf_counter() - started
    if report.ok:
        click.echo(f"{path}: sound ({report.runs} runs, {report.sends} sends; {took:.2f}s)")
        return
    if report.too_new:
        click.echo(
            f"{path}: not checked: {report.problems[0]}; check it with that version", err=True
        )
        sys.exit(2)
    journal = leftover_journal(path)
    if journal is not None and any("readonly" in problem for problem in report.problems):
        click.echo(f"{path}: not checked: {journal_advice(path, journal)}", err=True)
        sys.exit(2)
    if report.not_a_ledger:
        click.echo(
            f"{path}: not a waiaas-runner ledger ({report.problems[0]}); give the ledger "
            "with --state",
            err=True,
        )
        sys.exit(2)
    click.echo(f"{path}: DAMAGED — {len(report.problems)} problem(s) found:", err=True)
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    click.echo(
        "Runs refuse to send with it. Keep a copy of the file, recover what it holds with "
        f"`sqlite3 {path} .recover | sqlite3 {path}.recovered`, check the copy with "
        f"`waiaas-run ledger check --state {path}.recovered`, then use it with --state.",
        err=True,
    )
    sys.exit(2)


for _sub in (prune_command, vacuum_command, backup_command, export_command, stats_command):
    command.add_command(_sub)
