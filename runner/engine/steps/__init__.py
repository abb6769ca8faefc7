"""Step kinds in the engine: one run module per kind, and their registry.

Each module has ``async def run(step, scope)`` taking its kind's model (from
:mod:`runner.playbook.steps`) and a :class:`~runner.engine.scope.StepScope`, and returns
the step's outputs. Adding a kind: its model module, its run module, and one line in each
registry (``STEP_KINDS`` in :mod:`runner.playbook.steps`, ``RUNNERS`` below).
"""

from __future__ import annotations

from runner.engine.steps import (
    assert_,
    assets,
    balance,
    log,
    notify,
    pending,
    send,
    transactions,
    wait,
)
from runner.engine.steps.base import StepContext, StepOutput, StepRunner

__all__ = ["RUNNERS", "StepContext", "StepOutput", "StepRunner"]

# kind key -> its run function; adding a kind is one line here (and one in STEP_KINDS)
RUNNERS: dict[str, StepRunner] = {
    "balance": balance.run,
    "assets": assets.run,
    "send": send.run,
    "wait": wait.run,
    "pending": pending.run,
    "transactions": transactions.run,
    "assert": assert_.run,
    "notify": notify.run,
    "log": log.run,
}
