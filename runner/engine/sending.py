"""Posting a send exactly once, whatever happens to the request or to this process.

The protocol, per send key (playbook / run id / step id):
1. an intent is committed to the ledger before the request leaves;
2. an answer with an id marks it accepted; a refusal by the daemon itself (its error
   body: nothing was inserted) marks it not sent;
3. an ambiguous failure (the answer was lost) is reconciled against the daemon's
   transaction list: a match is adopted, a provable absence allows another attempt,
   anything else marks the key ``unknown`` and stops the run (exit 3);
4. a key found in the ledger is never posted again unless it is provably not sent: an
   accepted one is adopted, an intended one (the process died mid-send) is reconciled;
5. before a post, the wallet's earlier sends must be past signing in the daemon
   (``runner.engine.pipeline``): two overlapping signings of one wallet fail there.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass

from runner.client import AmbiguousSendError, TransferRequest, WAIaaSError
from runner.engine import pipeline
from runner.engine.failpoints import failpoint
from runner.engine.pipeline import RECONCILE_GRACE_SECONDS, PipelineWait
from runner.engine.scope import StepScope
from runner.engine.wallets import ResolvedWallet
from runner.errors import SendStateUnknown, StepFailed
from runner.ledger import (
    CapExceeded,
    DailyCap,
    Ledger,
    LedgerError,
    SendIntent,
    SendState,
    Verdict,
    reconcile,
)

__all__ = [
    "RECONCILE_GRACE_SECONDS",
    "Accepted",
    "send_exactly_once",
    "wait_for_interrupted_request",
]


@dataclass(frozen=True)
class Accepted:
    tx_id: str
    status: str
    adopted: bool  # found in the ledger or the daemon's list rather than posted now
    pipeline: PipelineWait = pipeline.NO_WAIT  # what it waited for before it was posted


async def send_exactly_once(
    scope: StepScope,
    request: TransferRequest,
    wallet: ResolvedWallet,
    *,
    daily_cap: tuple[DailyCap, ...] = (),
) -> Accepted:
    """Post ``request`` under the step's send key, at most once whatever happens."""
    # The whole protocol holds the wallet's lock: a reconciliation must not run while
    # another send from this wallet is between its POST and its answer, or it could adopt
    # that send's transaction as its own.
    try:
        async with scope.wallets.lock(wallet):
            return await _protocol(scope, scope.run.ledger, request, wallet, daily_cap)
    except CapExceeded as exceeded:
        assert exceeded.cap is not None
        raise StepFailed(
            f"limit max_per_day ({exceeded.cap.scope}): {exceeded.spent_raw} smallest units "
            f"of {request.symbol} already sent in the last 24 h (in-flight sends included, "
            f"by any process using this ledger); {request.raw} more would pass the cap of "
            f"{exceeded.cap.cap_raw}; nothing was sent"
        ) from None


async def _protocol(
    scope: StepScope,
    ledger: Ledger,
    request: TransferRequest,
    wallet: ResolvedWallet,
    daily_cap: tuple[DailyCap, ...],
) -> Accepted:
    key = str(scope.send_key)
    intent = ledger.send(key)
    if intent is not None:
        adopted = await _settle_earlier_attempt(scope, ledger, intent)
        if adopted is not None:
            return adopted
    # before the intent: a send that times out waiting leaves nothing to reconcile
    waited = await pipeline.wait_for_earlier_sends(scope, wallet, own_key=key)
    if intent is not None:
        intent = ledger.reopen(key, request, daily_cap)
    else:
        failpoint("before-intent")
        intent = ledger.intend_send(
            key=key,
            run_id=scope.send_key.run_id,
            playbook=scope.send_key.playbook,
            step_id=scope.send_key.step_id,
            request=request,
            daily_cap=daily_cap,
        )
    failpoint("after-intent")
    for attempt in range(scope.run.client.retry_policy.max_retries + 1):
        if attempt:  # the last attempt was lost and provably absent: another is safe
            intent = ledger.reopen(key, request, daily_cap)
        result = await _post(scope, ledger, intent, request)
        if result is not None:
            return dataclasses.replace(result, pipeline=waited)
    raise StepFailed(f"send {key}: every attempt was lost and found absent; nothing was sent")


async def _settle_earlier_attempt(
    scope: StepScope, ledger: Ledger, intent: SendIntent
) -> Accepted | None:
    """What an earlier attempt of this key left behind; None when posting is allowed."""
    if intent.state is SendState.ACCEPTED and intent.tx_id is not None:
        return Accepted(intent.tx_id, intent.tx_status or "PENDING", adopted=True)
    if intent.state is SendState.UNKNOWN:
        raise SendStateUnknown(intent.key, intent.note or "an earlier attempt was not settled")
    if intent.state is SendState.INTENDED:  # the process stopped between intent and answer
        await _wait_until_settled(scope, intent)
        return await _reconcile(scope, ledger, intent, "an earlier attempt was interrupted")
    return None


async def _wait_until_settled(scope: StepScope, intent: SendIntent) -> float:
    """An interrupted request may still be in flight: it is judged only once it would have
    timed out. Returns how long that took."""
    wait = max(0.0, pipeline.request_over_at(scope, intent) - scope.run.clock())
    if wait:
        await scope.run.sleep(wait)
    return wait


async def wait_for_interrupted_request(scope: StepScope) -> None:
    """Before a send step's own ``timeout:`` starts: if an earlier attempt of this key was
    interrupted mid-request, wait until that request would have timed out, so the wait
    does not count against the step (a step timeout shorter than the request timeout
    would otherwise stop every early --resume again)."""
    intent = scope.run.ledger.send(str(scope.send_key))
    if intent is None or intent.state is not SendState.INTENDED:
        return
    waited = await _wait_until_settled(scope, intent)
    if waited:
        scope.log(
            "info",
            f"an earlier attempt of send {intent.key} was interrupted mid-request; waited "
            f"{waited:.1f}s until it would have timed out (not counted against the step)",
        )


async def _post(
    scope: StepScope, ledger: Ledger, intent: SendIntent, request: TransferRequest
) -> Accepted | None:
    try:
        sent = await scope.run.client.send(request)
    except AmbiguousSendError as error:
        # A request the daemon is still working on would not be in the list yet: give it
        # a moment before concluding anything from its absence.
        await scope.run.sleep(RECONCILE_GRACE_SECONDS)
        return await _reconcile(scope, ledger, intent, error.message)
    except WAIaaSError as error:  # the daemon refused, or the request never left
        try:
            ledger.mark_not_sent(intent.key, str(error))
        except LedgerError as failure:  # still "intended": --resume checks the list first
            raise StepFailed(
                f"the daemon refused the send: {error}; nothing was sent, but the ledger "
                f"could not record that ({failure})"
            ) from None
        raise StepFailed(f"the daemon refused the send: {error}") from None
    failpoint("after-answer")
    try:
        ledger.mark_accepted(intent.key, sent.id, sent.status.value)
    except (LedgerError, sqlite3.IntegrityError) as error:  # the transfer exists: say which
        raise SendStateUnknown(
            intent.key,
            f"the daemon accepted it as transaction {sent.id}, but the ledger could not "
            f"record that ({error}); `waiaas-run resolve {intent.key} --tx {sent.id}`",
        ) from None
    return Accepted(sent.id, sent.status.value, adopted=False)


async def _reconcile(
    scope: StepScope, ledger: Ledger, intent: SendIntent, cause: str
) -> Accepted | None:
    """Judge an ambiguous attempt from the daemon's list. The request may have created a
    transaction, so a ledger failure here leaves the send unknown (exit 3), never failed."""
    found: str | None = None
    try:
        verdict = await reconcile(scope.run.client, intent, claimed=ledger.claimed_tx_ids())
        if verdict.verdict is Verdict.FOUND and verdict.transaction is not None:
            tx = verdict.transaction
            found = tx.id
            ledger.mark_accepted(intent.key, tx.id, tx.status.value, note=f"adopted: {cause}")
            scope.log("warning", f"{cause}; the daemon had created it: adopted {tx.id}")
            return Accepted(tx.id, tx.status.value, adopted=True)
        if verdict.verdict is Verdict.ABSENT:
            ledger.mark_not_sent(intent.key, f"{cause}; {verdict.reason}")
            scope.log("warning", f"{cause}; the daemon holds no such transaction")
            return None
        note = f"{cause}; {verdict.reason}"
        ledger.mark_unknown(intent.key, note)
    except (LedgerError, sqlite3.IntegrityError) as error:
        said = f"{cause}; the ledger failed while settling it ({error})"
        if found is not None:
            said += (
                f"; the daemon holds it as transaction {found}: "
                f"`waiaas-run resolve {intent.key} --tx {found}`"
            )
        raise SendStateUnknown(intent.key, said) from None
    raise SendStateUnknown(intent.key, note)
