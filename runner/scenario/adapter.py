"""The one place scenario tests meet the engine: run a playbook once, as `waiaas-run run`
would, against a given daemon, on a given clock, and hand back what it did."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runner.client import RetryPolicy
from runner.engine.launch import TOKEN_ENV, LaunchOptions, launch
from runner.engine.results import RunResult, StepResult
from runner.engine.scope import parse_var_override
from runner.errors import ExitCode, LockBusy, UsageError, exit_code_of
from runner.playbook import Facts, Playbook
from runner.playbook.steps import step_id_of

# what the rest of runner.scenario needs from the engine comes through this module
__all__ = [
    "PlaybookRun",
    "RunRequest",
    "StepResult",
    "run_playbook",
    "step_id_of",
    "var_override_problem",
]

# A scenario's faults answer at once or drop the connection; a "hang" or a long "hold"
# should cost a test seconds, not the 30 s a real daemon gets.
SCENARIO_REQUEST_TIMEOUT = 2.0


@dataclass(frozen=True)
class RunRequest:
    playbook: Playbook
    path: Path
    daemon_url: str
    token: str
    state: Path  # the ledger, shared by the runs of one case
    config_home: Path  # an empty config directory: a user's own limits never apply here
    env: Mapping[str, str]
    variables: Mapping[str, str]
    run_id: str | None
    sleep: Callable[[float], Awaitable[None]]
    clock: Callable[[], float]


@dataclass
class PlaybookRun:
    """What one run did: its result, or why it did not start (exit code 2 / 1)."""

    result: RunResult | None
    refused: str | None = None
    refused_code: int = int(ExitCode.INVALID)
    logs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return int(self.result.exit_code) if self.result is not None else self.refused_code

    @property
    def steps(self) -> list[StepResult]:
        return self.result.steps if self.result is not None else []


class _Collect:
    """A reporter that prints nothing and keeps the log lines (for a failure's report)."""

    def __init__(self, logs: list[tuple[str, str]]) -> None:
        self.logs = logs

    def step_started(self, index: int, step_id: str, label: str) -> None:
        return None

    def step_finished(self, result: StepResult) -> None:
        return None

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    def run_finished(self, result: RunResult) -> None:
        return None


async def run_playbook(request: RunRequest) -> PlaybookRun:
    logs: list[tuple[str, str]] = []
    environ = {
        **request.env,
        TOKEN_ENV: request.token,
        "XDG_CONFIG_HOME": str(request.config_home),
    }
    options = LaunchOptions(
        daemon_url=request.daemon_url,
        variables=dict(request.variables),
        run_id=request.run_id,
        state=request.state,
        environ=environ,
        retry_policy=RetryPolicy(sleep=request.sleep),
        sleep=request.sleep,
        clock=request.clock,
        request_timeout=SCENARIO_REQUEST_TIMEOUT,
    )
    try:
        result = await launch(request.playbook, request.path, "run", options, _Collect(logs))
    except (UsageError, LockBusy) as error:  # the run did not start
        code = int(exit_code_of(error))
        return PlaybookRun(None, refused=str(error), refused_code=code, logs=logs)
    return PlaybookRun(result, logs=logs)


def var_override_problem(name: str, text: str, facts: Facts) -> str | None:
    """Why a case's ``vars:`` value would be refused as ``--var name=text`` (None: it is
    taken), so a test file says so when it loads, not in the middle of a test run."""
    if name not in facts.static_vars:
        return None  # a templated var, or one the playbook does not have (said elsewhere)
    try:
        parse_var_override(name, text, facts.static_vars[name], facts)
    except UsageError as error:
        return str(error).removeprefix(f"--var {name}: ")
    return None
