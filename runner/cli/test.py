"""``waiaas-run test PATH...``: run playbooks' scenario tests (``<name>.test.yaml``).

Exit 0 when every case passes, 1 when a case failed, 2 when a test file (or its playbook)
is invalid or nothing was found to test.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click

from runner.playbook.diagnostics import render_text
from runner.playbook.files import is_scenario, yaml_files_in
from runner.scenario import (
    SCENARIO_SUFFIXES,
    CaseResult,
    ScenarioFileError,
    load_scenario,
    run_scenario,
)


def scenario_files(paths: tuple[Path, ...]) -> tuple[list[Path], list[str]]:
    """Test files to run, and notes about playbooks given without one.

    A directory is searched recursively (hidden directories skipped); a playbook stands for
    its ``<name>.test.yaml`` next to it, so a pre-commit hook can pass changed files."""
    found: list[Path] = []
    notes: list[str] = []
    for path in paths:
        if path.is_dir():
            found.extend(candidate for candidate in yaml_files_in(path) if is_scenario(candidate))
        elif is_scenario(path):
            found.append(path)
        else:
            sibling = [path.with_name(path.stem + s) for s in SCENARIO_SUFFIXES]
            existing = [s for s in sibling if s.is_file()]
            if existing:
                found.append(existing[0])
            else:
                notes.append(f"{path}: no scenario file ({sibling[0].name}); not tested")
    return list(dict.fromkeys(found)), notes


def _text_report(result: CaseResult) -> None:
    mark = click.style("✓", fg="green") if result.passed else click.style("✗", fg="red")
    click.echo(f"  {mark} {result.name}  ({result.duration:.2f}s)")
    for line in result.verdict.lines:
        click.echo(f"      {line}")


def _json_result(result: CaseResult) -> dict[str, Any]:
    return {
        "event": "case",
        "file": str(result.file),
        "case": result.name,
        "passed": result.passed,
        "exit_code": result.exit_code,
        "sends": [
            {"from": s.wallet, "to": s.to, "amount": str(s.amount), "status": s.status}
            for s in result.sends
        ],
        "diff": result.verdict.lines,
        "duration": round(result.duration, 3),
    }


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--case", "case_filter", metavar="TEXT", help="Run only the cases whose name contains TEXT."
)
@click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a line per case and a diff for failures; json: one JSON line per case.",
)
def command(paths: tuple[Path, ...], case_filter: str | None, output: str) -> None:
    """Run the scenario tests (*.test.yaml) of playbooks against in-process sandboxes.

    Each case starts a sandbox (balances, tiers, faults, clock), runs the playbook and
    compares its sends, step outcomes, exit code and webhook events with what it expects.

    PATH may be a test file (*.test.yaml), a playbook (its <name>.test.yaml is run) or a
    directory (searched recursively). Exit 0 all cases pass, 1 a case failed, 2 a test
    file is invalid.
    """
    # the runs' own warnings (retries, adopted sends) belong to their cases' reports
    logging.getLogger("runner").setLevel(logging.ERROR)
    files, notes = scenario_files(paths)
    for note in notes:
        click.echo(note, err=True)
    if not files:
        raise click.UsageError("no scenario files (*.test.yaml) found in the given paths")
    started = time.perf_counter()
    invalid = 0
    results: list[CaseResult] = []
    for file in files:
        try:
            scenario = load_scenario(file)
        except ScenarioFileError as error:
            invalid += 1
            click.echo(render_text(error.diagnostics), err=True)
            continue
        if output == "text":
            click.echo(f"{file} ({scenario.playbook_path.name})")
        report = _text_report if output == "text" else _print_json
        results += asyncio.run(
            run_scenario(
                scenario,
                only=lambda name: case_filter is None or case_filter in name,
                on_result=report,
            )
        )
    failed = sum(not r.passed for r in results)
    summary = (
        f"{len(results)} case{'s' if len(results) != 1 else ''}: "
        f"{len(results) - failed} passed, {failed} failed"
        + (f", {invalid} invalid file{'s' if invalid != 1 else ''}" if invalid else "")
        + f" ({time.perf_counter() - started:.2f}s)"
    )
    if output == "json":
        click.echo(
            json.dumps(
                {
                    "event": "summary",
                    "passed": len(results) - failed,
                    "failed": failed,
                    "invalid_files": invalid,
                }
            )
        )
    click.echo(summary, err=output == "json")
    sys.exit(2 if invalid else 1 if failed else 0)


def _print_json(result: CaseResult) -> None:
    click.echo(json.dumps(_json_result(result), ensure_ascii=False))
