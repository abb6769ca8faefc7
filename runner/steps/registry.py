"""All step kinds, and the discriminated union the playbook model uses for ``steps:``.

A step's kind is the one kind key it contains (``balance:``, ``send:``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Discriminator, Tag

from runner.steps.assert_ import AssertStep
from runner.steps.assets import AssetsStep
from runner.steps.balance import BalanceStep
from runner.steps.base import StepModel
from runner.steps.log import LogStep
from runner.steps.notify import NotifyStep
from runner.steps.pending import PendingStep
from runner.steps.send import SendStep
from runner.steps.wait import WaitStep

__all__ = ["STEP_KINDS", "Step", "kind_of"]

# kind key -> model; adding a kind is one line here
STEP_KINDS: dict[str, type[StepModel]] = {
    model.kind: model
    for model in (
        BalanceStep,
        AssetsStep,
        SendStep,
        WaitStep,
        PendingStep,
        AssertStep,
        NotifyStep,
        LogStep,
    )
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
