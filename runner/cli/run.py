"""``waiaas-run run PLAYBOOK...`` (also plain ``waiaas-run PLAYBOOK...``): carry it out."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli._execution import execution_options, run_playbooks
from runner.engine.launch import LaunchOptions


@click.command("run")
@execution_options("text", "json")
@click.option("--run-id", help="Name this run (a send key includes it); default: a new id.")
@click.option("--resume", is_flag=True, help="Continue the last unfinished run of the playbook.")
def command(
    playbooks: tuple[Path, ...],
    daemon_url: str | None,
    token_file: Path | None,
    variables: dict[str, str],
    sandbox: bool,
    fixture: Path | None,
    state: Path | None,
    timeout: float | None,
    output: str,
    quiet: bool,
    config: Path | None,
    wait_lock: bool,
    run_id: str | None,
    resume: bool,
) -> None:
    """Run playbooks against the daemon. Exit 0 ok, 1 a step failed or an assertion was
    false, 2 invalid playbook or usage, 3 a send is in an unknown state (needs a person)."""
    if resume and run_id:
        raise click.UsageError("--resume continues the last unfinished run; drop --run-id")
    options = LaunchOptions(
        daemon_url=daemon_url,
        token_file=token_file,
        variables=variables,
        run_id=run_id,
        resume=resume,
        state=state,
        sandbox=sandbox,
        fixture=fixture,
        timeout=timeout,
        config=config,
        wait_lock=wait_lock,
    )
    run_playbooks("run", playbooks, output, quiet, options)
