"""``waiaas-run plan PLAYBOOK...``: show what a run would do; never sends or cancels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from runner.cli._execution import execution_options, launch_options, run_playbooks


@click.command("plan")
@execution_options("text", "json", "markdown")
def command(playbooks: tuple[Path, ...], output: str, quiet: bool, **options: Any) -> None:
    """Perform the reads, evaluate conditions, simulate every send that would happen and
    chain projected balances through later steps. Nothing is sent, cancelled or recorded."""
    run_playbooks("plan", playbooks, output, quiet, launch_options(options))
