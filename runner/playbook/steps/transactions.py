"""``transactions``: a wallet's recent transactions, filtered by status and age.

For alerts on transactions that do not move on, such as a transfer that stays SUBMITTED
(the daemon never gives up on one). One read of ``GET /v1/transactions`` (newest first, up
to ``limit`` items): the daemon allows that path 10 calls a minute per session. Its records
carry only their creation time, so ``older_than`` and ``oldest_age`` count from creation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from runner.playbook.exprtypes import ExprType
from runner.playbook.fields import Duration, Identifier, Model
from runner.playbook.steps.base import StepModel
from runner.playbook.steps.pending import PendingStep
from runner.playbook.steps.wait import Status


class TransactionsSettings(Model):
    wallet: Identifier | None = Field(None, description="wallet alias; default daemon.wallet")
    status: list[Status] | None = Field(
        None, description="keep only these statuses, e.g. [SUBMITTED]; default all"
    )
    older_than: Duration = Field(
        timedelta(0), description="keep only transactions created at least this long ago"
    )
    limit: int = Field(100, ge=1, le=100, description="how many of the newest to look at")


class TransactionsStep(StepModel):
    """``oldest_age`` is in seconds since the oldest match was created (0 when none)."""

    kind: ClassVar[str] = "transactions"
    wallet_key: ClassVar[str | None] = "wallet"
    outputs: ClassVar[Mapping[str, ExprType]] = PendingStep.outputs  # the same summary
    transactions: TransactionsSettings
