"""What a step kind's ``run`` is: ``async def run(step, scope) -> StepOutput``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol

from runner.playbook import Expression, Template
from runner.playbook.values import Value

__all__ = ["StepContext", "StepOutput", "StepRunner"]

# ints are welcome: the engine turns them into Decimal before expressions see them
StepOutput = Mapping[str, Value | int]

# A kind's run function: its own model type first (the registry pairs them by kind).
StepRunner = Callable[[Any, Any], Awaitable[StepOutput]]


class StepContext(Protocol):
    """The slice of a :class:`~runner.engine.scope.StepScope` that steps needing no daemon
    use (so they run against anything that evaluates expressions)."""

    def evaluate(self, expression: Expression) -> Value: ...

    def render(self, template: Template) -> Value: ...

    def log(self, level: str, message: str) -> None: ...

    def known_only_in_a_run(self, expressions: Iterable[Expression]) -> list[str]:
        """In a plan, the steps these expressions read whose outputs only a run knows."""
        ...
