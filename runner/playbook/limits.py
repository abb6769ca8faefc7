"""``limits:``: client-side caps applied on top of the daemon's own policies."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, WithJsonSchema

from runner.playbook.amounts import AmountLiteral, RawAmount
from runner.playbook.fields import AMOUNT_SCHEMA, Model, StaticAmount

__all__ = ["Limits", "sent_on_network"]


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
    max_per_day: PerToken = Field(
        default_factory=list,
        description="rolling 24 h from the ledger, of the token on the send's network: a "
        "playbook's counts its own sends, the runner config's every playbook's",
    )
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


N = TypeVar("N", int, Decimal)


def sent_on_network(
    tally: Mapping[tuple[str | None, str], N], symbol: str, network: str | None, zero: N
) -> N:
    """What a tally per (network, symbol) holds of ``symbol`` on ``network``. One symbol on
    two networks is two assets (testnet ETH is not mainnet ETH) and is never added; an
    entry or a ``network`` that is not known (None) counts with every network: doubt
    means less is sent."""
    return sum(
        (
            value
            for (on, held), value in tally.items()
            if held == symbol and (network is None or on in (None, network))
        ),
        zero,
    )
