"""``wait``: poll a transaction until it reaches a status, with the runner's own deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from runner.playbook.exprtypes import BOOL, NUMBER, STRING, ExprType
from runner.playbook.fields import Duration, TextValue
from runner.steps.base import Model, StepModel, StepOutput
from runner.steps.errors import StepFailed

if TYPE_CHECKING:
    from runner.client import Transaction
    from runner.engine.context import RunContext

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
    timeout: Duration = Field(timedelta(minutes=30), description="the runner's own deadline")
    interval: Duration = Field(timedelta(seconds=5), description="time between polls")
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

    async def run(self, context: RunContext) -> StepOutput:
        settings = self.wait
        if context.planning:  # nothing was sent, so there is nothing to wait for
            context.log("info", f"plan: would wait until {settings.until}")
            return {"status": "PLANNED", "reached": None, "tx_hash": None, "waited": 0}
        tx_id = context.render_text(settings.transaction)
        if not tx_id:
            raise StepFailed(f"no transaction to wait for: {settings.transaction} is empty")
        started = context.clock()
        deadline = started + settings.timeout.total_seconds()
        interval = settings.interval.total_seconds()
        delay = min(interval, 1.0)
        seen: str | None = None
        while True:
            try:
                tx = await context.client.get_transaction(tx_id)
            except ValueError as error:  # not an id at all: rendered from the wrong value
                raise StepFailed(f"cannot wait for {settings.transaction}: {error}") from None
            if tx.status.value != seen:
                seen = tx.status.value
                tier = f" (tier {tx.tier})" if tx.tier else ""
                context.log("info", f"{tx.id}: {seen}{tier} after {context.clock() - started:.1f}s")
                if context.ledger is not None:
                    context.ledger.record_tx_status(tx.id, seen)
            waited = context.clock() - started
            output = _output(tx, reached=tx.status == settings.until, waited=waited)
            if tx.status == settings.until:
                return output
            if tx.status.terminal:
                detail = f": {tx.error}" if tx.error else ""
                raise StepFailed(
                    f"transaction {tx.id} ended {tx.status.value}{detail} "
                    f"(waiting for {settings.until})",
                    output,
                )
            if context.clock() >= deadline:
                return await _timed_out(context, settings, tx, output)
            # backoff from 1 s up to the interval; never past the deadline
            await context.sleep(max(0.0, min(delay, deadline - context.clock())))
            delay = min(delay * 2, interval)


def _output(tx: Transaction, *, reached: bool, waited: float) -> dict[str, Any]:
    from decimal import Decimal

    return {
        "status": tx.status.value,
        "tier": None if tx.tier is None else str(tx.tier),
        "reached": reached,
        "tx_hash": tx.tx_hash,
        "waited": Decimal(f"{waited:.3f}"),  # a duration in seconds, never an amount
    }


async def _timed_out(
    context: RunContext, settings: WaitSettings, tx: Transaction, output: dict[str, Any]
) -> StepOutput:
    from runner.client import TransactionStatus, WAIaaSError

    what = f"transaction {tx.id} is still {tx.status.value} after {settings.timeout}"
    if settings.on_timeout == "fail":
        raise StepFailed(f"{what} (on_timeout: fail)", output)
    if settings.on_timeout == "cancel":
        if tx.status != TransactionStatus.QUEUED:
            raise StepFailed(f"{what}; only a QUEUED transaction can be cancelled", output)
        try:
            cancelled = await context.client.cancel_transaction(tx.id)
        except WAIaaSError as error:
            raise StepFailed(f"{what}; cancelling it failed: {error}", output) from None
        if context.ledger is not None:
            context.ledger.record_tx_status(tx.id, cancelled.status.value)
        context.log("warning", f"{what}: cancelled")
        return {**output, "status": cancelled.status.value}
    context.log("warning", f"{what} (on_timeout: continue)")
    return output
