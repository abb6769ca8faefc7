"""``wait``: poll a transaction until it reaches a status, with the runner's own deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import Field

from runner.playbook.exprtypes import BOOL, NUMBER, STRING, ExprType
from runner.playbook.fields import Model, PollInterval, TextValue, Timeout
from runner.playbook.steps.base import StepModel

# transaction statuses of the daemon (waiaas-api.md §4.1)
Status = Literal[
    "PENDING",
    "QUEUED",
    "EXECUTING",
    "SUBMITTED",
    "CONFIRMED",
    "FAILED",
    "CANCELLED",
    "EXPIRED",
    "PARTIAL_FAILURE",
    "SIGNED",
    "GAS_WAITING",
]


class WaitSettings(Model):
    transaction: TextValue = Field(description="a transaction id, e.g. ${{ steps.fund.id }}")
    until: Status = Field("CONFIRMED", description="the status to wait for")
    timeout: Timeout = Field(timedelta(minutes=30), description="the runner's own deadline")
    interval: PollInterval = Field(timedelta(seconds=5), description="time between polls")
    on_timeout: Literal["fail", "cancel", "continue"] = Field(
        "fail",
        description="fail the step; cancel the transaction (only while QUEUED) and go on; or go on",
    )


class WaitStep(StepModel):
    """``reached`` is false when the transaction ended elsewhere (FAILED, CANCELLED, EXPIRED)
    or the deadline passed with ``on_timeout: continue``."""

    kind: ClassVar[str] = "wait"
    outputs: ClassVar[dict[str, ExprType]] = {
        "status": STRING,
        "tier": STRING,
        "reached": BOOL,
        "tx_hash": STRING,
        "waited": NUMBER,
    }
    wait: WaitSettings
