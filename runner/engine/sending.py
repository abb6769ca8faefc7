"""Posting a send exactly once, whatever happens to the request or to this process.

The protocol, per send key (playbook / run id / step id):
1. an intent is committed to the ledger before the request leaves;
2. an answer with an id marks it accepted; a refusal by the daemon itself (its error
   body: nothing was inserted) marks it not sent;
3. an ambiguous failure (the answer was lost) is reconciled against the daemon's
   transaction list: a match is adopted, a provable absence allows another attempt,
   anything else marks the key ``unknown`` and stops the run (exit 3);
4. a key found in the ledger is never posted again unless it is provably not sent: an
   accepted one is adopted, an intended one (the process died mid-send) is reconciled.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from runner.client import (
    AmbiguousSendError,
    WAIaaSError,
    transfer_body,
)
from runner.engine.context import ResolvedWallet, RunContext
from runner.engine.failpoints import failpoint
from runner.ledger import (
    CapExceeded,
    DailyCap,
    Ledger,
    SendIntent,
    SendState,
    Verdict,
    reconcile,
)
from runner.steps.errors import SendStateUnknown, StepFailed

__all__ = ["RECONCILE_GRACE_SECONDS", "Accepted", "send_exactly_once"]

# The daemon inserts a send's row within milliseconds of reading it; two seconds leave a
# wide margin before an absence is taken as proof.
RECONCILE_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class Accepted:
    tx_id: str
    status: str
    adopted: bool  # found in the ledger or the daemon's list rather than posted now


async def send_exactly_once(
    context: RunContext,
    wallet: ResolvedWallet,
    *,
    to: str,
    raw: int,
    symbol: str,
    token: dict[str, Any] | None,
    memo: str | None,
    network: str | None,
    daily_cap: DailyCap | None = None,
) -> Accepted:
    ledger = context.ledger
    if ledger is None:
        raise StepFailed("a send needs the run ledger, and this run has none")
    key = context.send_key()
    try:
        request = transfer_body(to, raw, None, token, memo, network, wallet.id)
    except ValueError as error:
        raise StepFailed(str(error)) from None
    # The whole protocol holds the wallet's lock: a reconciliation must not run while
    # another send from this wallet is between its POST and its answer, or it could adopt
    # that send's transaction as its own.
    try:
        async with context.wallet_lock(wallet):
            return await _protocol(context, ledger, wallet, key, request, symbol, daily_cap)
    except CapExceeded as exceeded:
        assert daily_cap is not None
        raise StepFailed(
            f"limit max_per_day: {exceeded.spent_raw} smallest units of {symbol} already sent "
            f"in the last 24 h (in-flight sends included, by any process using this ledger); "
            f"{raw} more would pass the cap of {daily_cap.cap_raw}; nothing was sent"
        ) from None


async def _protocol(
    context: RunContext,
    ledger: Ledger,
    wallet: ResolvedWallet,
    key: str,
    request: dict[str, Any],
    symbol: str,
    daily_cap: DailyCap | None,
) -> Accepted:
    intent = ledger.send(key)
    if intent is not None:
        adopted = await _settle_earlier_attempt(context, ledger, intent)
        if adopted is not None:
            return adopted
        intent = ledger.reopen(key, request, symbol, daily_cap)
    else:
        failpoint("before-intent")
        intent = ledger.intend_send(
            key=key,
            run_id=context.run_id,
            playbook=context.playbook.name,
            step_id=context.step_id,
            wallet_id=wallet.id,
            network=request.get("network"),
            to_address=request["to"],
            amount_raw=int(request["amount"]),
            symbol=symbol,
            request=request,
            daily_cap=daily_cap,
        )
    failpoint("after-intent")
    for attempt in range(context.client.retry_policy.max_retries + 1):
        if attempt:  # the last attempt was lost and provably absent: another is safe
            intent = ledger.reopen(key, request, symbol, daily_cap)
        result = await _post(context, ledger, intent)
        if result is not None:
            return result
    raise StepFailed(f"send {key}: every attempt was lost and found absent; nothing was sent")


async def _settle_earlier_attempt(
    context: RunContext, ledger: Ledger, intent: SendIntent
) -> Accepted | None:
    """What an earlier attempt of this key left behind; None when posting is allowed."""
    if intent.state is SendState.ACCEPTED and intent.tx_id is not None:
        return Accepted(intent.tx_id, intent.tx_status or "PENDING", adopted=True)
    if intent.state is SendState.UNKNOWN:
        raise SendStateUnknown(intent.key, intent.note or "an earlier attempt was not settled")
    if intent.state is SendState.INTENDED:  # the process stopped between intent and answer
        # Its request may still be in flight: judge only once it would have timed out.
        settled = intent.intended_at + context.client.timeout + RECONCILE_GRACE_SECONDS
        await context.sleep(max(0.0, settled - context.clock()))
        return await _reconcile(context, ledger, intent, "an earlier attempt was interrupted")
    return None


async def _post(context: RunContext, ledger: Ledger, intent: SendIntent) -> Accepted | None:
    request = intent.request
    token = request.get("token")
    try:
        sent = await context.client.send_token(
            request["to"],
            request["amount"],
            type=request["type"],
            token=token,
            memo=request.get("memo"),
            network=request.get("network"),
            wallet_id=request.get("walletId"),
        )
    except AmbiguousSendError as error:
        # A request the daemon is still working on would not be in the list yet: give it
        # a moment before concluding anything from its absence.
        await context.sleep(RECONCILE_GRACE_SECONDS)
        return await _reconcile(context, ledger, intent, error.message)
    except WAIaaSError as error:  # the daemon refused, or the request never left
        ledger.mark_not_sent(intent.key, str(error))
        raise StepFailed(f"the daemon refused the send: {error}") from None
    failpoint("after-answer")
    try:
        ledger.mark_accepted(intent.key, sent.id, sent.status.value)
    except sqlite3.Error as error:  # the transfer exists: say which one, whatever happens
        raise SendStateUnknown(
            intent.key,
            f"the daemon accepted it as transaction {sent.id}, but the ledger could not "
            f"record that ({error}); `waiaas-run resolve {intent.key} --tx {sent.id}`",
        ) from None
    return Accepted(sent.id, sent.status.value, adopted=False)


async def _reconcile(
    context: RunContext, ledger: Ledger, intent: SendIntent, cause: str
) -> Accepted | None:
    claimed = ledger.claimed_tx_ids()
    verdict = await reconcile(context.client, intent, claimed=claimed)
    if verdict.verdict is Verdict.FOUND and verdict.transaction is not None:
        tx = verdict.transaction
        ledger.mark_accepted(intent.key, tx.id, tx.status.value, note=f"adopted: {cause}")
        context.log("warning", f"{cause}; the daemon had created it: adopted {tx.id}")
        return Accepted(tx.id, tx.status.value, adopted=True)
    if verdict.verdict is Verdict.ABSENT:
        ledger.mark_not_sent(intent.key, f"{cause}; {verdict.reason}")
        context.log("warning", f"{cause}; the daemon holds no such transaction")
        return None
    note = f"{cause}; {verdict.reason}"
    ledger.mark_unknown(intent.key, note)
    raise SendStateUnknown(intent.key, note)
