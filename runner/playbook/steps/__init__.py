"""Step kinds in the playbook language: one model module per kind, and their registry.

A step's kind is the one kind key it contains (``balance:``, ``send:``, ...). Adding a
kind: its model module here, its run module in :mod:`runner.engine.steps`, and one line
in each registry (``STEP_KINDS`` below, ``RUNNERS`` there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Discriminator, Tag

from runner.playbook.steps.assert_ import AssertStep
from runner.playbook.steps.assets import AssetsStep
from runner.playbook.steps.balance import BalanceStep
from runner.playbook.steps.base import COMMON_OUTPUTS, StepModel, step_id_of
from runner.playbook.steps.log import LogStep
from runner.playbook.steps.notify import NotifyStep
from runner.playbook.steps.pending import PendingStep
from runner.playbook.steps.send import SendStep
from runner.playbook.steps.transactions import TransactionsStep
from runner.playbook.steps.wait import WaitStep

__all__ = ["COMMON_OUTPUTS", "STEP_KINDS", "Step", "StepModel", "kind_of", "step_id_of"]

# kind key -> model; adding a kind is one line here (and one in runner.engine.steps.RUNNERS)
STEP_KINDS: dict[str, type[StepModel]] = {
    "balance": BalanceStep,
    "assets": AssetsStep,
    "send": SendStep,
    "wait": WaitStep,
    "pending": PendingStep,
    "transactions": TransactionsStep,
    "assert": AssertStep,
    "notify": NotifyStep,
    "log": LogStep,
}


def kind_of(step: Any) -> str | None:
    """The first kind key of a step mapping (a second one is reported as an unknown key)."""
    if isinstance(step, StepModel):
        return step.kind
    if isinstance(step, dict):
        return next((key for key in step if key in STEP_KINDS), None)
    return None


def _tag(step: Any) -> str | None:
    # tags differ from every key, so error locations (which include the tag) map back to keys
    kind = kind_of(step)
    return f"{kind} step" if kind else None


if TYPE_CHECKING:
    Step = StepModel
else:
    Step = Annotated[
        Union[tuple(Annotated[model, Tag(f"{kind} step")] for kind, model in STEP_KINDS.items())],  # noqa: UP007
        Discriminator(
            _tag,
            custom_error_type="step_kind",
            custom_error_message="a step needs one kind key: " + ", ".join(STEP_KINDS),
        ),
    ]
