"""Every fault the wire can throw, at every kind of call: never a duplicate, never a lie.

The playbook reads a balance, sends 0.001 ETH (INSTANT tier) and waits for it to confirm,
so it intends exactly one transaction. A fault hits the first call of one kind:

* ``read``: ``GET /v1/wallet/balance`` (the first step);
* ``send``: ``POST /v1/transactions/send``;
* ``wait``: ``GET /v1/transactions/{id}`` (the wait step's poll).

Each case asserts the exit code, how many transactions the sandbox holds and what the
ledger says about the send (state, transaction id).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from runner.engine.results import ExitCode
from runner.ledger import SendState
from tests.exactly_once.conftest import Harness, RequestHook, dead_port, reason

PLAYBOOK = """\
steps:
  - id: before
    balance: { wallet: treasury }
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
  - id: settle
    wait: { transaction: "${{ steps.fund.id }}", until: CONFIRMED, timeout: 30s,
            interval: 20ms }
"""

TARGETS = {
    "read": ("GET", "/v1/wallet/balance"),
    "send": ("POST", "/v1/transactions/send"),
    "wait": ("GET", "/v1/transactions/*"),
}


@dataclass(frozen=True)
class Outcome:
    exit_code: ExitCode
    transactions: int
    state: SendState | None  # the send's final ledger state; None: never intended
    failed_step: str | None = None
    says: str = ""  # words the failed step's reason must contain


OK = Outcome(ExitCode.OK, 1, SendState.ACCEPTED)

# (fault, target) -> what must come out. Faults not listed for a target behave as OK.
# Reads and polls change nothing on the daemon, so "accepted, then the answer was lost"
# (drop, read timeout, restart) is only a lost answer there: the client repeats the call
# and the run goes on. Those rows are not about exactly-once; they assert that nothing
# around the send turns a hiccup into a second transaction or a failed run.
EXPECTED: dict[tuple[str, str], Outcome] = {
    # INTERNAL_ERROR is not retryable and its daemon body proves nothing was inserted: the
    # send is not repeated, the step fails and the ledger says not_sent.
    ("500", "send"): Outcome(ExitCode.FAILED, 0, SendState.NOT_SENT, "fund", "INTERNAL_ERROR"),
    # On a read it is not retried either (not retryable): the run stops before sending...
    ("500", "read"): Outcome(ExitCode.FAILED, 0, None, "before", "INTERNAL_ERROR"),
    # ...and on the wait's poll the step fails, the transaction stays accepted.
    ("500", "wait"): Outcome(ExitCode.FAILED, 1, SendState.ACCEPTED, "settle", "INTERNAL_ERROR"),
    # An expired token cannot be renewed: each call fails clearly and nothing is repeated.
    ("token-expiry", "send"): Outcome(
        ExitCode.FAILED, 0, SendState.NOT_SENT, "fund", "TOKEN_EXPIRED"
    ),
    ("token-expiry", "read"): Outcome(ExitCode.FAILED, 0, None, "before", "TOKEN_EXPIRED"),
    ("token-expiry", "wait"): Outcome(
        ExitCode.FAILED, 1, SendState.ACCEPTED, "settle", "TOKEN_EXPIRED"
    ),
}

# Sandbox fault specs (the target's METHOD PATH goes in front).
SANDBOX_FAULTS = {
    # accepted, then the connection is dropped before the answer: a send is reconciled
    # against the transaction list and the transaction found there is adopted
    "drop": "drop times=1",
    # accepted, the answer held past the client's read timeout (0.3 s): same as a drop
    "read-timeout": "hold=2 times=1",
    # a proxy's bare page: for a send nothing proves the daemon did not see it, so it is
    # reconciled; the sandbox answered before its handler, so the list proves absence and
    # the send is posted again, once
    "502-proxy": "status=502 body=proxy times=1",
    "504-proxy": "status=504 body=proxy times=1",
    # the daemon's rate limiter refused it (body: retryable): retried after Retry-After
    "429": "status=429 retry_after=7 times=1",
    "500": "status=500 times=1",
}
FAULTS = [*SANDBOX_FAULTS, "connection-refused", "daemon-restart", "token-expiry"]


async def _restart_once_held(harness: Harness) -> None:
    """When the ``hang`` rule has been taken (a request is held by it), restart the daemon."""
    while harness.sandbox.core.faults.describe():
        await asyncio.sleep(0.005)
    await harness.restart()


def _arm(harness: Harness, fault: str, method: str, path: str) -> asyncio.Task[None] | None:
    if fault in SANDBOX_FAULTS:
        harness.sandbox.add_fault(f"{method} {path} {SANDBOX_FAULTS[fault]}")
        if fault == "read-timeout":
            # the only fault that needs the deadline to pass; the request timeout is a
            # deadline for the whole call, so the others keep the default and a loaded
            # machine's slow call is not taken for a fault
            harness.client_timeout = 0.3
    elif fault == "connection-refused":
        # the request is sent to a port where nothing listens: refused before a byte left
        port = dead_port()

        def refuse(request: httpx.Request) -> None:
            request.url = request.url.copy_with(port=port)

        harness.hooks.append(RequestHook(method, path, refuse))
    elif fault == "daemon-restart":
        # the call is held by the daemon, which then goes down (the held request is cut)
        # and comes back on the same port and state file; retries wait for it
        harness.sandbox.add_fault(f"{method} {path} hang times=1")
        return asyncio.get_running_loop().create_task(_restart_once_held(harness))
    elif fault == "token-expiry":
        # the session's TTL runs out on the daemon's clock right before this call
        _, harness.token = harness.sandbox.create_session(ttl=3600)
        sandbox = harness.sandbox

        def expire(request: httpx.Request) -> None:
            sandbox.advance(3601)

        harness.hooks.append(RequestHook(method, path, expire))
    return None


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("fault", FAULTS)
async def test_fault_matrix(harness: Harness, fault: str, target: str) -> None:
    method, path = TARGETS[target]
    restarting = _arm(harness, fault, method, path)
    result, reporter = await harness.run(PLAYBOOK)
    if restarting is not None:
        assert restarting.done(), "the held request never reached the daemon"
        await restarting
    expected = EXPECTED.get((fault, target), OK)

    assert result.exit_code is expected.exit_code, [(s.step_id, s.reason) for s in result.steps]
    assert harness.tx_count() == expected.transactions
    sends = harness.sends()
    if expected.state is None:
        assert sends == []
    else:
        assert [send.state for send in sends] == [expected.state]
        tx_ids = [send.tx_id for send in sends if send.tx_id is not None]
        assert tx_ids == harness.tx_ids()  # the ledger names the daemon's one transaction
    if expected.failed_step is not None:
        said = reason(result, expected.failed_step)
        assert expected.says in said
        assert "Traceback" not in said
        assert harness.token is None or harness.token not in said  # never the secret
    if fault == "429":
        assert max(harness.retry_sleep.waits) >= 7  # Retry-After was honoured
    if (fault, target) in {("drop", "send"), ("read-timeout", "send")}:
        assert sends[0].note is not None and sends[0].note.startswith("adopted")
        assert any("adopted" in message for _, message in reporter.logs)
    if (fault, target) in {("502-proxy", "send"), ("504-proxy", "send")}:
        # the lost attempt was proven absent before the one repeat
        assert any("holds no such transaction" in message for _, message in reporter.logs)
    if (fault, target) in RETRIED:
        assert harness.retry_sleep.waits, "the client should have retried the call"
    else:
        assert harness.retry_sleep.waits == []


# Calls the client itself repeats: anything provably not received (refused, the daemon's
# retryable body), and any read whatever the failure (reads change nothing).
RETRIED = {
    *((fault, target) for fault in ("connection-refused", "429") for target in TARGETS),
    *(
        (fault, target)
        for fault in ("drop", "read-timeout", "502-proxy", "504-proxy", "daemon-restart")
        for target in ("read", "wait")
    ),
}


async def test_daemon_restarts_after_creating_the_transaction_before_answering(
    harness: Harness,
) -> None:
    """The worst restart for a send: the row is committed, the answer is lost with the old
    process. The new daemon's list (same state file) holds it, and it is adopted."""
    harness.sandbox.add_fault("POST /v1/transactions/send hold=5 times=1")

    async def restart_once_created() -> None:
        while harness.tx_count() == 0:
            await asyncio.sleep(0.005)
        await harness.restart()

    restarting = asyncio.get_running_loop().create_task(restart_once_created())
    result, _ = await harness.run(PLAYBOOK)
    await restarting

    assert result.exit_code is ExitCode.OK, [(s.step_id, s.reason) for s in result.steps]
    assert harness.tx_count() == 1
    [send] = harness.sends()
    assert send.state is SendState.ACCEPTED and [send.tx_id] == harness.tx_ids()
    assert send.note is not None and send.note.startswith("adopted")


async def test_an_unreachable_daemon_fails_the_run_clearly(harness: Harness) -> None:
    result, _ = await harness.run(PLAYBOOK, daemon_url=f"http://127.0.0.1:{dead_port()}")

    assert result.exit_code is ExitCode.FAILED
    said = reason(result, "before")
    assert "could not reach the daemon at http://127.0.0.1:" in said
    assert len(harness.retry_sleep.waits) == 3  # retried, as a read may be
    assert harness.tx_count() == 0 and harness.sends() == []
