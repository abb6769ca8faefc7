"""``waiaas-run run PLAYBOOK...`` (also plain ``waiaas-run PLAYBOOK...``): carry it out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from runner.cli._execution import execution_options, launch_options, run_playbooks
from runner.ledger.keys import run_id_problem
from runner.serve.slots import SlotError, parse_slot, slot_run_id


def _slot(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_slot(value)
    except SlotError as error:
        raise click.BadParameter(str(error)) from None


def _run_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (problem := run_id_problem(value)):
        raise click.BadParameter(problem)
    return value


@click.command("run")
@execution_options("text", "json")
@click.option(
    "--run-id",
    callback=_run_id,
    help="Name this run (a send key includes it); default: a new id.",
)
@click.option(
    "--resume", is_flag=True, help="Continue the playbook's last run that did not end ok."
)
@click.option(
    "--scheduled-for",
    metavar="TIME",
    callback=_slot,
    help="The nominal slot an external scheduler started this run for (ISO-8601 with Z or "
    "an offset, e.g. 2026-11-25T03:00:00Z, or a Kubernetes CronJob's "
    "cronjob-scheduled-timestamp). The run id is derived from playbook and slot, so a job "
    "started twice for one slot continues one run and sends once.",
)
def command(playbooks: tuple[Path, ...], output: str, quiet: bool, **options: Any) -> None:
    """Run playbooks against the daemon. Exit 0 ok, 1 a step failed or an assertion was
    false, 2 invalid playbook or usage, 3 a send is in an unknown state (needs a person)."""
    slot: datetime | None = options["scheduled_for"]
    if options["resume"] and (options["run_id"] or slot):
        raise click.UsageError(
            "--resume continues the last unfinished run; drop --run-id / --scheduled-for"
        )
    if slot is not None and options["run_id"]:
        raise click.UsageError("--scheduled-for derives the run id; drop --run-id")
    if slot is None:
        run_playbooks("run", playbooks, output, quiet, launch_options(options))
        return
    # A duplicate start for the same slot waits for the first, then finds its run done.
    options["wait_lock"] = True
    run_playbooks(
        "run",
        playbooks,
        output,
        quiet,
        launch_options(options),
        run_id_for=lambda playbook: slot_run_id(playbook.name, slot),
    )
