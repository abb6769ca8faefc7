"""``limits:``: client-side caps applied on top of the daemon's own policies."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from runner.playbook.amounts import AmountLiteral, RawAmount
from runner.playbook.fields import AMOUNT_SCHEMA, Model, StaticAmount

__all__ = ["Limits"]


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


# one amount, or a list with one amount per token: ["0.5 ETH", "1000 USDC"]
PerToken = Annotated[
    list[StaticAmount],
    BeforeValidator(_as_list),
    WithJsonSchema({"anyOf": [AMOUNT_SCHEMA, {"type": "array", "items": AMOUNT_SCHEMA}]}),
]


class Limits(Model):
    """Caps per token; a send of a token without a cap is not limited here."""

    max_per_send: PerToken = Field(default_factory=list)
    max_per_run: PerToken = Field(default_factory=list)
    max_per_day: PerToken = Field(default_factory=list, description="rolling 24 h, from the ledger")
    allow_to: list[str] | None = Field(
        None, description="the only recipients sends may use: wallet aliases or addresses"
    )
    max_sends_per_run: int | None = Field(
        None, ge=0, description="how many transactions one run may post at most"
    )

    def caps(self) -> dict[str, list[AmountLiteral | RawAmount]]:
        return {
            "max_per_send": self.max_per_send,
            "max_per_run": self.max_per_run,
            "max_per_day": self.max_per_day,
        }
