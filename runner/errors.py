"""The runner's errors: one base, each class carrying the exit code it ends a run with.

Every module of the runner raises errors from this hierarchy (the client's own errors stay
in :mod:`runner.client.errors`, so the client works without the rest). The exit code of a
failure is decided here, by :func:`exit_code_of`, and nowhere else.

Exit codes: 0 ok, 1 a step failed or an assertion was false, 2 invalid playbook or usage,
3 a send is in an unknown state and needs a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any, ClassVar

__all__ = [
    "ExitCode",
    "LockBusy",
    "RunnerError",
    "SendStateUnknown",
    "StepFailed",
    "UsageError",
    "exit_code_of",
]


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a step failed or an assertion was false
    INVALID = 2  # invalid playbook or usage
    UNKNOWN_SEND = 3  # a send is in an unknown state and needs a person


class RunnerError(Exception):
    """Base of every runner error; ``exit_code`` is what a run that ends with it exits with."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED


class UsageError(RunnerError):
    """The run cannot start as asked (missing environment, a bad --var, a bad option)."""

    exit_code = ExitCode.INVALID


class LockBusy(RunnerError):
    """Another process is running this playbook (the run was refused, not started)."""

    exit_code = ExitCode.FAILED


class StepFailed(RunnerError):
    """The step did not do its job; ``message`` says why and, where useful, what to do.

    ``output`` is what the step still knows (e.g. a wait that ended in FAILED reports the
    status), so later steps and the record keep it.
    """

    exit_code = ExitCode.FAILED

    def __init__(self, message: str, output: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.output = dict(output or {})


class SendStateUnknown(RunnerError):
    """A send may or may not have created a transaction: the run stops with exit code 3."""

    exit_code = ExitCode.UNKNOWN_SEND

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(
            f"send {key} is in an unknown state ({reason}). Look for it in the daemon's "
            f"transaction list, then run `waiaas-run resolve {key} --tx ID` or "
            f"`waiaas-run resolve {key} --not-sent`"
        )
        self.key = key
        self.reason = reason


def exit_code_of(error: BaseException) -> ExitCode:
    """The one place a failure becomes an exit code: a runner error says its own; anything
    else (a daemon error, a bug of ours) failed the step or the run."""
    if isinstance(error, RunnerError):
        return error.exit_code
    return ExitCode.FAILED
