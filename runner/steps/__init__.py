"""Step kinds: one module per kind, all behind the interface in :mod:`runner.steps.base`."""

from runner.steps.base import StepContext, StepModel, StepOutput
from runner.steps.registry import STEP_KINDS, Step, kind_of

__all__ = ["STEP_KINDS", "Step", "StepContext", "StepModel", "StepOutput", "kind_of"]
