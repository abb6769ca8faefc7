"""``pending``: list a wallet's PENDING/QUEUED transactions, optionally until none are left."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from runner.playbook.exprtypes import ANY, NUMBER, STRING, ExprType, list_of
from runner.playbook.fields import Identifier, Model, PollInterval
from runner.playbook.steps.base import StepModel


class PendingSettings(Model):
    wallet: Identifier | None = Field(None, description="wallet alias; default daemon.wallet")
    until_empty: bool = Field(False, description="poll until the list is empty (or timeout)")
    interval: PollInterval = Field(timedelta(seconds=10), description="time between polls")


class PendingStep(StepModel):
    """``oldest_age`` is in seconds (0 when nothing is pending)."""

    kind: ClassVar[str] = "pending"
    wallet_key: ClassVar[str | None] = "wallet"
    outputs: ClassVar[dict[str, ExprType]] = {
        "count": NUMBER,
        "ids": list_of(STRING),
        "items": list_of(ANY),
        "oldest_age": NUMBER,
    }
    pending: PendingSettings
