"""``waiaas-run validate PATH...``: check playbooks without running them (exit 0 or 2)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from runner.errors import ExitCode
from runner.playbook import PlaybookError
from runner.playbook.diagnostics import Diagnostic, render_json, render_text
from runner.playbook.files import find_playbooks, is_scenario
from runner.playbook.load import load_playbook
from runner.serve.triggers import dst_warnings


def _check(file: Path) -> tuple[list[Diagnostic], list[str]]:
    """A file's problems and warnings, from one load; a scenario file given by name is
    checked as one."""
    if is_scenario(file):
        from runner.scenario import ScenarioFileError, load_scenario  # only for test files

        try:
            load_scenario(file)
        except ScenarioFileError as error:
            return error.diagnostics, []
        return [], []
    try:
        schedule = load_playbook(file).schedule
    except PlaybookError as error:
        return error.diagnostics, []
    # a cron time in a DST gap or overlap of its time zone: valid, but worth a warning
    return [], [] if schedule is None else dst_warnings(schedule, datetime.now(UTC))


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--output",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one line per problem (path:line:col: key: message); json: the same as JSON.",
)
def command(paths: tuple[Path, ...], output: str) -> None:
    """Check playbooks: YAML, keys, amounts, expressions, references, limits.

    PATH may be a file or a directory (searched recursively for *.yaml and *.yml).
    Exit code 0 when every playbook is valid, 2 otherwise.
    """
    found = find_playbooks(paths)
    files = found.files
    for skipped, what in found.skipped.items():
        click.echo(f"{skipped}: skipped: {what}, not a playbook", err=True)
    for folder, why in found.unreadable.items():
        click.echo(f"{folder}: cannot read the directory: {why}", err=True)
    if not files:
        raise click.UsageError("no *.yaml or *.yml playbooks found in the given paths")
    checked = {str(file): _check(file) for file in files}
    results: dict[str, list[Diagnostic]] = {file: found[0] for file, found in checked.items()}
    invalid = [file for file, problems in results.items() if problems]
    for file, (_, warnings) in checked.items():
        for warning in warnings:
            click.echo(f"{file}: warning: {warning}", err=True)
    if output == "json":
        click.echo(render_json(results))
    else:
        for problems in results.values():
            if problems:
                click.echo(render_text(problems))
        total = len(files)
        summary = (
            f"{len(invalid)} of {total} playbook{'s' if total != 1 else ''} invalid"
            if invalid
            else f"{total} playbook{'s' if total != 1 else ''} valid"
        )
        click.echo(summary, err=True)
    if invalid or found.unreadable:
        raise SystemExit(int(ExitCode.INVALID))
