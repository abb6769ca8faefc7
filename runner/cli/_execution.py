"""What `run` and `plan` share: their options and the way a playbook is carried out."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from runner.engine.executor import Reporter
from runner.engine.json_report import JsonReporter
from runner.engine.launch import LaunchOptions, SandboxStarter, launch
from runner.engine.results import RunResult, StepResult
from runner.engine.scope import Mode
from runner.errors import ExitCode, RunnerError, UsageError, exit_code_of
from runner.playbook import Playbook, PlaybookError, load_playbook
from runner.playbook.diagnostics import mask_secrets
from runner.playbook.durations import DurationError, parse_duration

__all__ = ["execution_options", "launch_options", "make_reporter", "run_playbooks"]

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


def positive_duration(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value).total_seconds()
    except DurationError as error:
        raise click.BadParameter(str(error)) from None
    if seconds <= 0:  # a run, a request or a drain that may take no time at all
        raise click.BadParameter(f"{value!r} is no time at all; give a positive duration")
    return seconds


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
            callback=positive_duration,
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
            callback=positive_duration,
            default="30s",
            show_default=True,
            help="How long one HTTP call to the daemon may take before it counts as lost.",
        ),
        click.option(
            "--pipeline-timeout",
            callback=positive_duration,
            help="How long a send may wait for its wallet's earlier sends to leave the "
            "daemon's signing before the step fails unsent (default: the runner config's "
            "pipeline_timeout, else 60s).",
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


def make_reporter(output: str, *, quiet: bool = False, plan: bool = False) -> Reporter:
    """The reporter for ``--output``; a plan gets the review table as well.

    The terminal and plan reporters (and so rich) are imported only when asked for: a
    one-shot ``run --output json`` from cron never loads them.
    """
    if not plan and output == "json":
        return JsonReporter()
    if not plan:
        from runner.engine.report import TextReporter

        return TextReporter(quiet=quiet)
    from runner.engine.plan_report import (
        MarkdownPlanReporter,
        PlanJsonReporter,
        PlanTextReporter,
    )

    if output == "json":
        return PlanJsonReporter()
    if output == "markdown":
        return MarkdownPlanReporter()
    return PlanTextReporter(quiet=quiet)


def _sandbox_starter(fixture: Path | None) -> SandboxStarter:
    """--sandbox: the sandbox server is imported only when it is asked for (aiohttp)."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[tuple[str, str]]:
        from runner.sandbox.fixture import load_fixture
        from runner.sandbox.server import Sandbox

        try:
            loaded = load_fixture(fixture)
        except ValueError as error:  # the message names the file and the field
            raise UsageError(f"--fixture: {error}") from None
        async with Sandbox(port=0, fixture=loaded) as sandbox:
            yield sandbox.url, sandbox.token

    return start


def launch_options(options: dict[str, Any]) -> LaunchOptions:
    """The subcommand's options as the engine takes them."""
    fixture = options.pop("fixture")
    sandbox = options.pop("sandbox")
    return LaunchOptions(**options, sandbox=_sandbox_starter(fixture) if sandbox else None)


def run_playbooks(
    mode: Mode,
    playbooks: tuple[Path, ...],
    output: str,
    quiet: bool,
    options: LaunchOptions,
    run_id_for: Callable[[Playbook], str] | None = None,
) -> None:
    """Carry out each playbook in turn; exit with the worst exit code. ``run_id_for``
    names each playbook's run (``--scheduled-for``)."""
    worst = ExitCode.OK
    for path in playbooks:
        reporter = _Remembering(make_reporter(output, quiet=quiet, plan=mode == "plan"))
        try:
            playbook = load_playbook(path)
            if run_id_for is not None:
                options = dataclasses.replace(options, run_id=run_id_for(playbook))
            result = asyncio.run(launch(playbook, path, mode, options, reporter))
        except RunnerError as error:  # refused before it started: a located message
            prefix = "" if isinstance(error, PlaybookError) else f"{path}: "  # it names the file
            click.echo(mask_secrets(f"{prefix}{error}"), err=True)
            worst = max(worst, exit_code_of(error))
            continue
        except KeyboardInterrupt:  # the run's summary said what became of a send in flight
            interrupted = reporter.result
            if interrupted is None:
                click.echo(f"{path}: interrupted before any step ran; nothing was sent", err=True)
            sys.exit(int(max(worst, ExitCode.FAILED, _exit_code(interrupted))))
        worst = max(worst, result.exit_code)
    sys.exit(int(worst))


def _exit_code(result: RunResult | None) -> ExitCode:
    return ExitCode.FAILED if result is None else result.exit_code


class _Remembering:
    """A reporter that keeps the run's result, so an interrupted run's exit code can say
    whether a send was left in flight."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.result: RunResult | None = None

    def step_started(self, index: int, step_id: str, label: str) -> None:
        self.reporter.step_started(index, step_id, label)

    def step_finished(self, result: StepResult) -> None:
        self.reporter.step_finished(result)

    def log(self, level: str, message: str) -> None:
        self.reporter.log(level, message)

    def run_finished(self, result: RunResult) -> None:
        self.result = result
        self.reporter.run_finished(result)
