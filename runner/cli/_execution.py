"""What `run` and `plan` share: their options and the way a playbook is carried out."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from runner.engine.context import Mode, UsageError
from runner.engine.launch import LaunchOptions, LockBusy, launch
from runner.engine.report import make_reporter
from runner.engine.results import ExitCode
from runner.playbook import PlaybookError, load_playbook
from runner.playbook.diagnostics import mask_secrets
from runner.playbook.durations import DurationError, parse_duration

__all__ = ["execution_options", "run_playbooks"]

F = TypeVar("F", bound=Callable[..., Any])


def _variables(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}")
        parsed[name.strip()] = value
    return parsed


def _timeout(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value).total_seconds()
    except DurationError as error:
        raise click.BadParameter(str(error)) from None


def execution_options(*outputs: str) -> Callable[[F], F]:
    """The options `run` and `plan` share; ``outputs`` are the --output choices."""
    return lambda function: _decorate(function, outputs)


def _decorate(function: F, outputs: tuple[str, ...]) -> F:
    options = [
        click.argument(
            "playbooks", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
        ),
        click.option(
            "--daemon-url",
            envvar="WAIAAS_URL",
            help="The daemon's base URL (default: $WAIAAS_URL, else the playbook's daemon.url).",
        ),
        click.option(
            "--token-file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="File holding the session token (default: $WAIAAS_SESSION_TOKEN, else the "
            "playbook's daemon.token / token_file).",
        ),
        click.option(
            "--var",
            "variables",
            multiple=True,
            metavar="NAME=VALUE",
            callback=_variables,
            help='Override a playbook var, e.g. --var top_up="0.1 ETH". Repeatable.',
        ),
        click.option(
            "--sandbox",
            is_flag=True,
            help="Start the local sandbox daemon for this run (nothing real is touched).",
        ),
        click.option(
            "--fixture",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Sandbox fixture for --sandbox (default: the shipped one).",
        ),
        click.option(
            "--state",
            type=click.Path(dir_okay=False, path_type=Path),
            help="The run ledger (SQLite). Default: $WAIAAS_RUNNER_STATE, else "
            "~/.local/share/waiaas-runner/ledger.sqlite3 (a throw-away one with --sandbox).",
        ),
        click.option(
            "--timeout",
            callback=_timeout,
            help="Give up on the whole run after this long (e.g. 10m).",
        ),
        click.option(
            "--output",
            type=click.Choice(outputs),
            default="text",
            show_default=True,
            help="text: a line per step; json: JSON lines, one event per step, a summary "
            "last"
            + (
                "; markdown: the review table for a pull-request comment."
                if "markdown" in outputs
                else "."
            ),
        ),
        click.option("--quiet", "-q", is_flag=True, help="Print only the one-line summary."),
        click.option(
            "--config",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Runner config with limits for every playbook (default: "
            "$WAIAAS_RUNNER_CONFIG, else ~/.config/waiaas-runner/config.yaml if present).",
        ),
        click.option(
            "--request-timeout",
            callback=_timeout,
            default="30s",
            show_default=True,
            help="How long one HTTP call to the daemon may take before it counts as lost.",
        ),
        click.option(
            "--wait-lock",
            is_flag=True,
            help="If another process runs the same playbook, wait for it instead of exiting.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def run_playbooks(
    mode: Mode, playbooks: tuple[Path, ...], output: str, quiet: bool, options: LaunchOptions
) -> None:
    """Carry out each playbook in turn; exit with the worst exit code."""
    worst = ExitCode.OK
    for path in playbooks:
        try:
            playbook = load_playbook(path)
        except PlaybookError as error:
            click.echo(str(error), err=True)
            worst = max(worst, ExitCode.INVALID)
            continue
        reporter = make_reporter(output, quiet=quiet, plan=mode == "plan")
        try:
            result = asyncio.run(launch(playbook, path, mode, options, reporter))
        except UsageError as error:
            click.echo(mask_secrets(f"{path}: {error}"), err=True)
            worst = max(worst, ExitCode.INVALID)
            continue
        except LockBusy as error:
            click.echo(f"{path}: {error}", err=True)
            worst = max(worst, ExitCode.FAILED)
            continue
        worst = max(worst, result.exit_code)
    sys.exit(int(worst))
