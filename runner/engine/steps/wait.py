"""Running ``wait``: poll a transaction until it reaches a status, with our own deadline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from runner.client import PolicyTier, Transaction, TransactionStatus, WAIaaSError
from runner.engine.scope import StepScope
from runner.engine.steps.base import StepOutput
from runner.errors import StepFailed
from runner.playbook.steps.wait import WaitSettings, WaitStep


async def run(step: WaitStep, scope: StepScope) -> StepOutput:
    settings = step.wait
    run_scope = scope.run
    if run_scope.planning:  # nothing was sent, so there is nothing to wait for
        scope.projections.unknown.add(scope.step_id)
        scope.log("info", f"plan: would wait until {settings.until}")
        return {"status": "PLANNED", "reached": None, "tx_hash": None, "waited": 0}
    tx_id = scope.render_text(settings.transaction)
    if not tx_id:
        raise StepFailed(f"no transaction to wait for: {settings.transaction} is empty")
    started = run_scope.clock()
    deadline = started + settings.timeout.total_seconds()
    interval = settings.interval.total_seconds()
    delay = min(interval, 1.0)
    seen: str | None = None
    while True:
        try:
            tx = await run_scope.client.get_transaction(tx_id)
        except ValueError as error:  # not an id at all: rendered from the wrong value
            raise StepFailed(f"cannot wait for {settings.transaction}: {error}") from None
        if tx.status.value != seen:
            seen = tx.status.value
            tier = f" (tier {tx.tier})" if tx.tier else ""
            scope.log("info", f"{tx.id}: {seen}{tier} after {run_scope.clock() - started:.1f}s")
            awaiting = tx.status == TransactionStatus.QUEUED and tx.tier == PolicyTier.APPROVAL
            if awaiting:
                scope.log("warning", _approval_hint(scope, tx, settings))
            run_scope.ledger.record_tx_status(tx.id, seen, awaiting_approval=awaiting)
        waited = run_scope.clock() - started
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
        if run_scope.clock() >= deadline:
            return await _timed_out(scope, settings, tx, output)
        # backoff from 1 s up to the interval; never past the deadline
        await run_scope.sleep(max(0.0, min(delay, deadline - run_scope.clock())))
        delay = min(delay * 2, interval)


def _approval_hint(scope: StepScope, tx: Transaction, settings: WaitSettings) -> str:
    """How a person acts on a transaction that waits for the owner's approval."""
    waiting = f"{tx.id} waits for the wallet owner's approval (this step waits {settings.timeout})"
    url = scope.run.sandbox_url
    if url is None:
        return f"{waiting}: approve or reject it where the owner approves WAIaaS transactions"
    return (
        f"{waiting}: in the sandbox, approve it with `waiaas-run sandbox --approve {tx.id} "
        f"--url {url}` (or --reject) from another terminal"
    )


def _output(tx: Transaction, *, reached: bool, waited: float) -> dict[str, Any]:
    return {
        "status": tx.status.value,
        "tier": None if tx.tier is None else str(tx.tier),
        "reached": reached,
        "tx_hash": tx.tx_hash,
        "waited": Decimal(f"{waited:.3f}"),  # a duration in seconds, never an amount
    }


async def _timed_out(
    scope: StepScope, settings: WaitSettings, tx: Transaction, output: dict[str, Any]
) -> StepOutput:
    what = f"transaction {tx.id} is still {tx.status.value} after {settings.timeout}"
    if settings.on_timeout == "fail":
        raise StepFailed(f"{what} (on_timeout: fail)", output)
    if settings.on_timeout == "cancel":
        if tx.status != TransactionStatus.QUEUED:
            raise StepFailed(f"{what}; only a QUEUED transaction can be cancelled", output)
        try:
            cancelled = await scope.run.client.cancel_transaction(tx.id)
        except WAIaaSError as error:
            raise StepFailed(f"{what}; cancelling it failed: {error}", output) from None
        scope.run.ledger.record_tx_status(tx.id, cancelled.status.value)
        scope.log("warning", f"{what}: cancelled")
        return {**output, "status": cancelled.status.value}
    scope.log("warning", f"{what} (on_timeout: continue)")
    return output
