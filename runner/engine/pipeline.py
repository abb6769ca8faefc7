"""A wallet's next send is posted only once its earlier sends are past signing.

The daemon answers ``201 PENDING`` before it signs; its pipeline then signs on its own, and
two signings of one wallet that overlap fail (the keystore is rewritten through one fixed
temp name, or the nonce is taken twice): the later transaction ends FAILED. Holding the
wallet's lock until the 201 is therefore not enough (issue #19). Before posting, the send
asks the daemon (``GET /v1/transactions/{id}``, on the 300/min limiter) about every earlier
send of the wallet that the ledger knows and that may still sign, and waits while any is
PENDING, EXECUTING (or in a status this runner does not know). Past signing: SUBMITTED, a
final status, or QUEUED / GAS_WAITING (parked until a delay, an approval or a gas price;
such a send is asked about again before each later send, since it signs once released).

The ledger holds every process's sends, so this covers the steps of one run, the runs of
serve and processes sharing the ledger; a send whose process died between writing its
intent and reading the answer (no transaction id) is waited on until its request would
have timed out. The wait has a deadline (``--pipeline-timeout``, the runner config's
``pipeline_timeout``; 60 s by default): when it passes, the step fails and nothing is
posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from runner.client import TransactionStatus, WAIaaSError
from runner.engine.scope import DEFAULT_PIPELINE_TIMEOUT, StepScope
from runner.engine.wallets import ResolvedWallet
from runner.errors import StepFailed
from runner.ledger import SendIntent, SendState

__all__ = [
    "DEFAULT_PIPELINE_TIMEOUT",
    "LOOKBACK_SECONDS",
    "RECONCILE_GRACE_SECONDS",
    "PipelineWait",
    "request_over_at",
    "wait_for_earlier_sends",
]

# The daemon inserts a send's row within milliseconds of reading it; two seconds leave a
# wide margin before an interrupted request is taken as over.
RECONCILE_GRACE_SECONDS = 2.0
# Earlier sends older than this are not asked about, so a ledger of years costs no
# requests. It covers every approval (the daemon's approval_timeout is at most 24 h) and
# every delay up to two days; a SPENDING_LIMIT policy's delay_seconds has no upper bound,
# so a send delayed longer is released unseen (README, "What it cannot promise").
LOOKBACK_SECONDS = 2 * 86_400.0
FIRST_POLL = 0.01  # the daemon signs in milliseconds; polls back off from here
LAST_POLL = 1.0  # ...up to once a second: well under the 300/min limiter

# once here a transaction never signs again: not asked about again
_SETTLED = frozenset(
    {
        "SUBMITTED",
        "CONFIRMED",
        "FAILED",
        "CANCELLED",
        "EXPIRED",
        "SIGNED",
        "PARTIAL_FAILURE",
    }
)
# not signing now: settled, or parked until a delay, an approval or a gas price ends. Any
# other status (PENDING, EXECUTING, one this runner does not know) is waited out.
_PAST_SIGNING = _SETTLED | {TransactionStatus.QUEUED.value, TransactionStatus.GAS_WAITING.value}


@dataclass(frozen=True)
class PipelineWait:
    """What a send waited for before it was posted."""

    waited: float  # seconds
    after: tuple[str, ...]  # transactions it found signing (or requests still in flight)

    def output(self) -> dict[str, Any]:
        return {"waited": Decimal(f"{self.waited:.3f}"), "after": list(self.after)}


NO_WAIT = PipelineWait(0.0, ())


async def wait_for_earlier_sends(
    scope: StepScope, wallet: ResolvedWallet, *, own_key: str
) -> PipelineWait:
    """Return once no earlier send of ``wallet`` is signing; raises :class:`StepFailed`
    (nothing posted) when the deadline passes or the daemon cannot say."""
    run = scope.run
    started = run.clock()
    earlier = [
        intent
        for intent in run.ledger.wallet_sends(wallet.id, since=started - LOOKBACK_SECONDS)
        if intent.key != own_key and _may_sign(intent)
    ]
    if not earlier:
        return NO_WAIT
    deadline = started + run.pipeline_timeout
    after = await _interrupted_requests(scope, wallet, earlier, deadline)
    signing = {i.tx_id: i.tx_status for i in earlier if i.tx_id is not None}
    delay = FIRST_POLL
    while True:
        for tx_id in list(signing):
            status = await _status_of(scope, wallet, tx_id, signing[tx_id])
            if status is not None and status not in _PAST_SIGNING:
                signing[tx_id] = status
                after = after if tx_id in after else (*after, tx_id)
            else:
                del signing[tx_id]
        waited = run.clock() - started
        if not signing:
            break
        if run.clock() >= deadline:
            timeout = run.pipeline_timeout
            raise StepFailed(_too_long(wallet, signing, timeout), _wait_output(waited, after))
        await run.sleep(max(0.0, min(delay, deadline - run.clock())))
        delay = min(delay * 2, LAST_POLL)
    if after:
        scope.log(
            "info",
            f"waited {waited:.2f}s for {', '.join(after)} of wallet {wallet.label} to leave "
            "signing before posting (the daemon signs one send of a wallet at a time)",
        )
    return PipelineWait(waited, after)


def _may_sign(intent: SendIntent) -> bool:
    """Whether an earlier send may be signing now or later, as far as the ledger knows."""
    if intent.state in (SendState.INTENDED, SendState.UNKNOWN):
        return True  # a request that may have created a transaction we have no id for
    if intent.state is not SendState.ACCEPTED or intent.tx_id is None:
        return False
    return intent.tx_status not in _SETTLED


async def _interrupted_requests(
    scope: StepScope, wallet: ResolvedWallet, earlier: list[SendIntent], deadline: float
) -> tuple[str, ...]:
    """Earlier sends without a transaction id (their process stopped mid-request, or they
    wait for `resolve`): whatever they created is past signing once the request would have
    timed out; wait until then."""
    run = scope.run
    now = run.clock()
    unanswered = [i for i in earlier if i.tx_id is None and request_over_at(scope, i) > now]
    if not unanswered:
        return ()
    over_at = max(request_over_at(scope, i) for i in unanswered)
    keys = tuple(f"request {i.key}" for i in unanswered)
    if over_at > deadline:
        raise StepFailed(
            f"wallet {wallet.label}: an earlier send's request ({', '.join(keys)}) was "
            f"interrupted and may still be signing until {over_at - run.clock():.1f}s from "
            f"now, past the pipeline timeout ({run.pipeline_timeout:g}s); this send was not "
            "posted (nothing was sent) — run again later or raise --pipeline-timeout"
        )
    await run.sleep(over_at - run.clock())
    return keys


def request_over_at(scope: StepScope, intent: SendIntent) -> float:
    """When a request made for ``intent`` has surely ended: its timeout, plus the grace the
    daemon may take to insert what it read."""
    return intent.intended_at + scope.run.client.timeout + RECONCILE_GRACE_SECONDS


async def _status_of(
    scope: StepScope, wallet: ResolvedWallet, tx_id: str, known: str | None
) -> str | None:
    """The transaction's status now (None: this daemon does not know it, so it is in no
    pipeline of ours), noted in the ledger when it changed."""
    try:
        tx = await scope.run.client.get_transaction(tx_id)
    except WAIaaSError as error:
        if error.code == "TX_NOT_FOUND":
            return None
        raise StepFailed(
            f"wallet {wallet.label}: cannot tell whether earlier transaction {tx_id} is past "
            f"signing ({error}); this send was not posted (nothing was sent)"
        ) from None
    status = tx.status.value
    if status != known:
        scope.run.ledger.record_tx_status(tx_id, status)
    return status


def _too_long(wallet: ResolvedWallet, signing: dict[str, str | None], timeout: float) -> str:
    which = ", ".join(f"{tx_id} ({status})" for tx_id, status in signing.items())
    return (
        f"wallet {wallet.label}: earlier transaction(s) {which} still signing after the "
        f"pipeline timeout ({timeout:g}s); the daemon fails a send whose signing overlaps "
        "another of the same wallet, so this one was not posted (nothing was sent). Run "
        "again once the daemon has moved them on, or raise --pipeline-timeout / the runner "
        "config's pipeline_timeout"
    )


def _wait_output(waited: float, after: tuple[str, ...]) -> dict[str, Any]:
    return {"sent": False, "pipeline": PipelineWait(waited, after).output()}
