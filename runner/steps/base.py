"""The small interface every step kind satisfies.

A step kind is one module with one Pydantic model: the common fields below, one key named
after the kind holding its settings (``balance: {wallet: agent}``), the outputs it declares
for the load-time type checker, and ``async def run(context)`` returning those outputs.
Adding a kind is one new module plus one line in :mod:`runner.steps.registry`.

``run`` bodies take the engine's ``RunContext`` and import engine helpers inside the
function: the engine imports the playbook models, which import every step kind, so a
module-level import would be circular.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from runner.playbook.amounts import UnitTable
from runner.playbook.expressions import Expression, Template
from runner.playbook.exprtypes import BOOL, ExprType
from runner.playbook.fields import Condition, Duration, Identifier
from runner.playbook.values import Value

__all__ = [
    "COMMON_OUTPUTS",
    "Model",
    "RetryOverride",
    "Runnable",
    "StaticFacts",
    "StepContext",
    "StepModel",
    "StepOutput",
]

# ints are welcome: the engine turns them into Decimal before expressions see them
StepOutput = Mapping[str, Value | int]

# Every step has these outputs; a step skipped by `if:` has skipped: true and null elsewhere.
COMMON_OUTPUTS: dict[str, ExprType] = {"skipped": BOOL}


class Model(BaseModel):
    """Strict: unknown keys are errors, and YAML values are never coerced ("5" is not 5)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=False)


class RetryOverride(Model):
    """Per-step override of the client's retry policy for retryable daemon errors."""

    attempts: int = Field(ge=0, le=10, description="retries after the first try")
    delay: Duration | None = None
    max_delay: Duration | None = None


class StaticFacts(Protocol):
    """What the playbook says before any run, for steps that refine their output types."""

    @property
    def units(self) -> UnitTable: ...

    def network_of(self, wallet: str | None) -> str | None:
        """The network of a wallet alias (None: the daemon default) if written literally."""
        ...


class StepContext(Protocol):
    """What a running step may use; the engine provides it."""

    def evaluate(self, expression: Expression) -> Value: ...

    def render(self, template: Template) -> Value: ...

    def log(self, level: str, message: str) -> None: ...


@runtime_checkable
class Runnable(Protocol):
    """A step kind the engine can execute."""

    async def run(self, context: StepContext) -> StepOutput: ...


class StepModel(Model):
    """Fields every step has. Subclasses add one field named like their ``kind``."""

    kind: ClassVar[str]
    outputs: ClassVar[Mapping[str, ExprType]]

    id: Identifier | None = Field(None, description="name to read outputs as steps.<id>.<field>")
    name: str | None = Field(None, description="human-readable label")
    if_: Condition | None = Field(None, alias="if", description="run only when this is true")
    timeout: Duration | None = Field(None, description="give up on this step after this long")
    retry: RetryOverride | None = None
    continue_on_error: bool = Field(
        False, description="a failure of this step does not stop the run"
    )

    def declared_outputs(self, facts: StaticFacts) -> dict[str, ExprType]:
        """Output name -> type; kinds whose types depend on their settings override this."""
        return {**COMMON_OUTPUTS, **self.outputs}

    @property
    def label(self) -> str:
        return self.id or self.name or self.kind
