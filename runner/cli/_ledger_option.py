"""The ``--state`` option of the commands that read or settle the ledger."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from runner.ledger import Ledger, LedgerError, default_ledger_path

F = TypeVar("F", bound=Callable[..., Any])

state_option: Callable[[F], F] = click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run ledger (default: $WAIAAS_RUNNER_STATE, else "
    "~/.local/share/waiaas-runner/ledger.sqlite3).",
)


def open_ledger(state: Path | None) -> Ledger:
    path = state or default_ledger_path()
    if not path.exists():
        raise click.UsageError(f"no ledger at {path} (nothing has run with it yet)")
    try:
        return Ledger(path)
    except LedgerError as error:
        raise click.UsageError(str(error)) from None
