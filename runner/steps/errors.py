"""How a step says it failed; the engine turns these into step results and exit codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SendStateUnknown", "StepFailed"]


class StepFailed(Exception):
    """The step did not do its job; ``message`` says why and, where useful, what to do.

    ``output`` is what the step still knows (e.g. a wait that ended in FAILED reports the
    status), so later steps and the record keep it.
    """

    def __init__(self, message: str, output: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.output = dict(output or {})


class SendStateUnknown(Exception):
    """A send may or may not have created a transaction: the run stops with exit code 3."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(
            f"send {key} is in an unknown state ({reason}). Look for it in the daemon's "
            f"transaction list, then run `waiaas-run resolve {key} --tx ID` or "
            f"`waiaas-run resolve {key} --not-sent`"
        )
        self.key = key
        self.reason = reason
