"""``waiaas-run run PLAYBOOK...`` (also plain ``waiaas-run PLAYBOOK...``): carry it out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from runner.cli._execution import execution_options, launch_options, run_playbooks


@click.command("run")
@execution_options("text", "json")
@click.option("--run-id", help="Name this run (a send key includes it); default: a new id.")
@click.option(
    "--resume", is_flag=True, help="Continue the playbook's last run that did not end ok."
)
def command(playbooks: tuple[Path, ...], output: str, quiet: bool, **options: Any) -> None:
    """Run playbooks against the daemon. Exit 0 ok, 1 a step failed or an assertion was
    false, 2 invalid playbook or usage, 3 a send is in an unknown state (needs a person)."""
    if options["resume"] and options["run_id"]:
        raise click.UsageError("--resume continues the last unfinished run; drop --run-id")
    run_playbooks("run", playbooks, output, quiet, launch_options(options))
