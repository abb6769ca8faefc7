"""``waiaas-run plan PLAYBOOK...``: show what a run would do; never sends or cancels."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli._execution import execution_options, run_playbooks
from runner.engine.launch import LaunchOptions


@click.command("plan")
@execution_options("text", "json", "markdown")
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
) -> None:
    """Perform the reads, evaluate conditions, simulate every send that would happen and
    chain projected balances through later steps. Nothing is sent, cancelled or recorded."""
    options = LaunchOptions(
        daemon_url=daemon_url,
        token_file=token_file,
        variables=variables,
        state=state,
        sandbox=sandbox,
        fixture=fixture,
        timeout=timeout,
        config=config,
        wait_lock=wait_lock,
    )
    run_playbooks("plan", playbooks, output, quiet, options)
