"""``assets``: list one wallet's native and token balances (read by symbol)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from runner.playbook.exprtypes import AMOUNT_MAP, NUMBER, STRING, ExprType, list_of
from runner.playbook.fields import Identifier, Model, NetworkName
from runner.playbook.steps.base import StepModel


class AssetsSettings(Model):
    wallet: Identifier | None = Field(None, description="wallet alias; default daemon.wallet")
    network: NetworkName | None = Field(None, description="default: the wallet's network")


class AssetsStep(StepModel):
    """Outputs ``balances.<SYMBOL>`` (an amount; 0 when the token is not held), ``symbols``
    and ``count``."""

    kind: ClassVar[str] = "assets"
    wallet_key: ClassVar[str | None] = "wallet"
    outputs: ClassVar[dict[str, ExprType]] = {
        "balances": AMOUNT_MAP,
        "symbols": list_of(STRING),
        "count": NUMBER,
    }
    assets: AssetsSettings
