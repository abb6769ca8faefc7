"""What every step kind's model is: the playbook-language half of a step kind.

A kind's model holds the common fields below and one key named after the kind with its
settings (``balance: {wallet: agent}``); it declares its outputs for the type checker, says
which of its keys names the wallet it acts on and whether it sends, and carries its own
static checks (:meth:`StepModel.check`, called by :mod:`runner.playbook.check`). How a
kind runs lives in the engine (:mod:`runner.engine.steps`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

from pydantic import Field

from runner.playbook.amounts import Amount, UnitTable
from runner.playbook.diagnostics import Diagnostic, KeyPath
from runner.playbook.expressions import Template
from runner.playbook.exprtypes import BOOL, ExprType
from runner.playbook.fields import Duration, Identifier, Model, OptionalCondition, Timeout

if TYPE_CHECKING:
    from runner.playbook.facts import Facts

__all__ = [
    "COMMON_OUTPUTS",
    "Checker",
    "RetryOverride",
    "StaticFacts",
    "StepModel",
    "step_id_of",
]

# Every step has these outputs; a step skipped by `if:` has skipped: true and null elsewhere.
COMMON_OUTPUTS: dict[str, ExprType] = {"skipped": BOOL}


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


class Checker(Protocol):
    """What a kind's static checks may use; :mod:`runner.playbook.check` provides it."""

    @property
    def facts(self) -> Facts: ...

    def diagnostic(self, path: KeyPath, message: str) -> Diagnostic: ...

    def static_amount(self, value: object) -> Amount | None:
        """The amount a field has before any run, if it can be known."""
        ...

    def static_text(self, template: Template) -> str | None:
        """The text a template has before any run, if it can be known."""
        ...

    def tally_send(self, amount: Amount, network: str | None) -> Amount:
        """Counts a statically known send on ``network`` (None: not known before the run);
        returns the run's total of its token on that network so far."""
        ...

    def cap(self, name: str, symbol: str) -> Amount | None:
        """The playbook's static ``limits.<name>`` for ``symbol``, if any."""
        ...

    def capped_symbols(self) -> set[str]:
        """The tokens the playbook's amount limits name."""
        ...

    def amount_type(self, path: KeyPath) -> ExprType | None:
        """The type the checker found for a templated amount field at ``path``."""
        ...


class StepModel(Model):
    """Fields every step has. Subclasses add one field named like their ``kind``."""

    kind: ClassVar[str]
    outputs: ClassVar[Mapping[str, ExprType]]
    # the key of the kind's settings that names the wallet it acts on (None: no wallet)
    wallet_key: ClassVar[str | None] = None
    # whether the kind moves money (exactly-once keys, records flushed around it, plans)
    sends: ClassVar[bool] = False

    id: Identifier | None = Field(None, description="name to read outputs as steps.<id>.<field>")
    name: str | None = Field(None, description="human-readable label")
    if_: OptionalCondition = Field(None, alias="if", description="run only when this is true")
    timeout: Timeout | None = Field(None, description="give up on this step after this long")
    retry: RetryOverride | None = None
    continue_on_error: bool = Field(
        False, description="a failure of this step does not stop the run"
    )

    def declared_outputs(self, facts: StaticFacts) -> dict[str, ExprType]:
        """Output name -> type; kinds whose types depend on their settings override this."""
        return {**COMMON_OUTPUTS, **self.outputs}

    def wallet(self) -> str | None:
        """The wallet alias written under :attr:`wallet_key` (None: the default wallet)."""
        if self.wallet_key is None:
            return None
        settings = getattr(self, self.kind)
        for name, info in type(settings).model_fields.items():
            if (info.alias or name) == self.wallet_key:
                alias = getattr(settings, name)
                return alias if isinstance(alias, str) else None
        raise AssertionError(f"{self.kind} has no key {self.wallet_key}")

    def check(self, path: KeyPath, checker: Checker) -> Iterator[Diagnostic]:
        """Problems of this step that need the whole playbook (``path`` locates it)."""
        return iter(())

    def default_id(self, index: int, steps: Sequence[StepModel]) -> str:
        """The id of a step written without one (``<kind>-<position>``)."""
        return f"{self.kind}-{index + 1}"

    def fingerprint(self) -> str:
        """A short digest of the kind's settings, stable while they are unchanged."""
        settings = getattr(self, self.kind)
        text = repr([str(getattr(settings, name, None)) for name in type(settings).model_fields])
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def label(self) -> str:
        return self.id or self.name or self.kind


def step_id_of(step: StepModel, index: int, steps: Sequence[StepModel] = ()) -> str:
    """A step's id: its own, else what its kind names it."""
    return step.id or step.default_id(index, steps)
