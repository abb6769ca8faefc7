"""The audit against the sandbox over HTTP: doubles made on purpose, foreign transfers,
sends the daemon does not know, mismatches, unsettled sends, cancelling queued doubles,
paging back to ``since`` within the list reads, and an incomplete audit said as such."""

from __future__ import annotations

import asyncio
import time

import pytest

import runner.engine.audit
from runner.client import RetryPolicy, TransferRequest, WAIaaSClient
from runner.engine.audit import AuditReport
from runner.errors import ExitCode
from runner.ledger import Ledger, SendState
from runner.ledger.audit import FindingKind
from tests.audit.conftest import STRANGER, Daemon, run_audit, send_body, wei
from tests.exactly_once.conftest import Harness, no_wait
from tests.exactly_once.proxy import ManglingProxy, Rule, closed


def kinds(report: AuditReport) -> list[tuple[str, str | None]]:
    return sorted((f.kind.value, f.tx_id) for f in report.findings)


async def until_status(daemon: Daemon, tx_id: str, *wanted: str) -> str:
    for _ in range(200):
        status = await daemon.status(tx_id)
        if status in wanted:
            return status
        await asyncio.sleep(0.01)
    raise AssertionError(f"{tx_id} never reached {wanted}")


def record(
    harness: Harness,
    key: str,
    *,
    to: str,
    raw: int,
    wallet: str = "treasury",
    tx_id: str | None = None,
    tx_status: str = "PENDING",
    state: SendState = SendState.ACCEPTED,
    at: float | None = None,
) -> None:
    """A send written straight into the ledger, as a run would have left it."""
    wallet_id = harness.sandbox.wallet(wallet)["id"]
    request = TransferRequest(
        to, raw, network="ethereum-sepolia", wallet_id=wallet_id, symbol="ETH"
    )
    clock = (lambda: at) if at is not None else time.time
    with Ledger(harness.state, clock=clock) as ledger:
        run_id = key.split("/")[1]
        ledger.intend_send(
            key=key, run_id=run_id, playbook="exactly-once", step_id="s", request=request
        )
        if state is SendState.ACCEPTED:
            assert tx_id is not None
            ledger.mark_accepted(key, tx_id, tx_status)
        elif state is SendState.UNKNOWN:
            ledger.mark_unknown(key, "the answer was lost")
        elif state is SendState.NOT_SENT:
            ledger.mark_not_sent(key, "refused")


async def test_a_clean_audit_finds_nothing_and_says_so(harness: Harness) -> None:
    result, _ = await harness.run(send_body("0.001 ETH"))
    assert result.exit_code == 0
    report = await run_audit(harness)
    assert report.findings == [] and report.unsettled == []
    assert report.complete and report.exit_code is ExitCode.OK
    assert {w.label for w in report.wallets} == {"treasury", "agent"}
    assert all(w.list_reads == 1 for w in report.wallets)


async def test_a_double_made_on_purpose_and_a_foreign_transfer(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    (send,) = harness.sends()
    daemon = Daemon(harness)
    # the same recipient (spelled in upper case: EVM addresses compare without case),
    # amount, token and network, a moment later: what a proxy's late request would make
    double = await daemon.post(daemon.address("agent").upper().replace("0X", "0x"), wei("0.001"))
    foreign = await daemon.post(STRANGER, wei("0.002"))
    other_amount = await daemon.post(daemon.address("agent"), wei("0.003"))
    report = await run_audit(harness)
    assert kinds(report) == sorted(
        [
            ("likely_double", double.id),
            ("foreign", foreign.id),
            ("foreign", other_amount.id),
        ]
    )
    (likely,) = [f for f in report.findings if f.kind is FindingKind.LIKELY_DOUBLE]
    assert likely.send_key == send.key and send.tx_id in likely.summary
    assert "after its intent" in likely.summary
    assert report.exit_code is ExitCode.FAILED and report.complete


async def test_an_identical_transfer_long_after_the_intent_is_foreign(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    tx = await daemon.post(daemon.address("agent"), wei("0.001"))
    report = await run_audit(harness, near=0.0001)  # "near" is narrower than the gap
    assert kinds(report) == [("foreign", tx.id)]


async def test_a_send_whose_transaction_the_daemon_does_not_know(harness: Harness) -> None:
    agent = harness.sandbox.wallet("agent")["address"]
    await harness.run(send_body("0.001 ETH"))  # the playbook file the audit reads
    made_up = "01900000-0000-7000-8000-000000000000"
    record(harness, "exactly-once/r1/s", to=agent, raw=5, tx_id=made_up)
    record(harness, "exactly-once/r2/s", to=agent, raw=6, tx_id="not-an-id/..")
    report = await run_audit(harness)
    unknown = {(f.tx_id, f.send_key) for f in report.findings}
    assert unknown == {(made_up, "exactly-once/r1/s"), ("not-an-id/..", "exactly-once/r2/s")}
    assert all(f.kind is FindingKind.UNKNOWN_TO_DAEMON for f in report.findings)
    assert report.exit_code is ExitCode.FAILED


async def test_mismatches_of_amount_recipient_and_final_status(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    agent = daemon.address("agent")
    # the ledger says 0.004 ETH; the transaction it names moved 0.005
    paid = await daemon.post(agent, wei("0.005"))
    record(harness, "exactly-once/amount/s", to=agent, raw=wei("0.004"), tx_id=paid.id)
    # the ledger says CONFIRMED; the daemon failed it (the agent holds 0.02 ETH)
    failed = await daemon.post(STRANGER, wei("1"), wallet="agent")
    await until_status(daemon, failed.id, "FAILED")
    record(
        harness,
        "exactly-once/status/s",
        to=STRANGER,
        raw=wei("1"),
        wallet="agent",
        tx_id=failed.id,
        tx_status="CONFIRMED",
    )
    # the ledger names another recipient
    elsewhere = await daemon.post(STRANGER, wei("0.006"))
    record(harness, "exactly-once/to/s", to=agent, raw=wei("0.006"), tx_id=elsewhere.id)
    report = await run_audit(harness)
    found = {f.send_key: f for f in report.findings}
    assert {f.kind for f in report.findings} == {FindingKind.MISMATCH}
    assert "amount: ledger 4000000000000000, daemon 5000000000000000" in (
        found["exactly-once/amount/s"].summary
    )
    assert "status: ledger CONFIRMED, daemon FAILED" in found["exactly-once/status/s"].summary
    assert "recipient" in found["exactly-once/to/s"].summary
    assert report.exit_code is ExitCode.FAILED


async def test_a_transfer_the_ledger_says_was_not_sent(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    record(harness, "exactly-once/ns/s", to=STRANGER, raw=wei("0.007"), state=SendState.NOT_SENT)
    made = await daemon.post(STRANGER, wei("0.007"))
    report = await run_audit(harness)
    (finding,) = report.findings
    assert (finding.kind, finding.tx_id, finding.send_key) == (
        FindingKind.MISMATCH,
        made.id,
        "exactly-once/ns/s",
    )
    assert "not sent" in finding.summary


async def test_an_unsettled_send_is_exit_3_with_its_candidates(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    record(
        harness,
        "exactly-once/lost/s",
        to=STRANGER,
        raw=wei("0.008"),
        state=SendState.UNKNOWN,
    )
    candidate = await daemon.post(STRANGER, wei("0.008"))
    report = await run_audit(harness)
    assert report.findings == []  # its candidate is neither foreign nor a double
    (unsettled,) = report.unsettled
    assert unsettled.send_key == "exactly-once/lost/s"
    assert unsettled.candidates == (candidate.id,)
    assert report.exit_code is ExitCode.UNKNOWN_SEND


async def test_a_send_waiting_for_its_answer_is_left_alone(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    # intended a moment ago, its transaction created, its answer not yet recorded
    record(harness, "exactly-once/flight/s", to=STRANGER, raw=9, state=SendState.INTENDED)
    await daemon.post(STRANGER, 9)
    report = await run_audit(harness)
    assert report.findings == [] and report.unsettled == []
    # the same, but intended long ago: the process died mid-send; a person must look
    record(
        harness,
        "exactly-once/died/s",
        to=STRANGER,
        raw=10,
        state=SendState.INTENDED,
        at=time.time() - 3600,
    )
    died = await daemon.post(STRANGER, 10)
    report = await run_audit(harness)
    assert [(u.send_key, u.candidates) for u in report.unsettled] == [
        ("exactly-once/died/s", (died.id,))
    ]


async def test_cancel_queued_cancels_only_a_queued_likely_double(harness: Harness) -> None:
    # 0.2 ETH from the treasury is APPROVAL tier: it stays QUEUED for the owner
    await harness.run(send_body("0.2 ETH"))
    (send,) = harness.sends()
    assert send.tx_id is not None
    daemon = Daemon(harness)
    double = await daemon.post(daemon.address("agent"), wei("0.2"))
    foreign = await daemon.post(STRANGER, wei("0.3"))
    for tx_id in (send.tx_id, double.id, foreign.id):
        await until_status(daemon, tx_id, "QUEUED")
    looked = await run_audit(harness)  # without the flag, nothing is cancelled
    assert looked.cancels == [] and await daemon.status(double.id) == "QUEUED"
    report = await run_audit(harness, cancel_queued=True)
    assert [(c.tx_id, c.send_key, c.cancelled) for c in report.cancels] == [
        (double.id, send.key, True)
    ]
    assert await daemon.status(double.id) == "CANCELLED"
    assert await daemon.status(send.tx_id) == "QUEUED"  # the intended one
    assert await daemon.status(foreign.id) == "QUEUED"  # never anything foreign
    data = report.to_json()
    (shown,) = [f for f in data["findings"] if f["kind"] == "likely_double"]
    assert shown["queued"] is True and shown["cancelled"] is True


async def test_an_identical_transfer_next_to_a_failed_send_is_never_a_double(
    harness: Harness,
) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    failed = await daemon.post(STRANGER, wei("1"), wallet="agent")
    await until_status(daemon, failed.id, "FAILED")
    record(
        harness,
        "exactly-once/failed/s",
        to=STRANGER,
        raw=wei("1"),
        wallet="agent",
        tx_id=failed.id,
        tx_status="FAILED",
    )
    retry = await daemon.post(STRANGER, wei("1"), wallet="agent")
    report = await run_audit(harness)
    (finding,) = report.findings
    assert (finding.kind, finding.tx_id) == (FindingKind.FOREIGN, retry.id)
    assert "did not go through" in finding.summary


async def test_paging_back_to_since_counts_list_reads(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    old = [await daemon.post(STRANGER, 100 + n) for n in range(2)]
    await asyncio.sleep(0.3)  # UUIDv7 ids carry milliseconds: a clear boundary
    boundary = time.time() - 0.15
    new = [await daemon.post(STRANGER, 200 + n) for n in range(3)]
    monkeypatch.setattr(runner.engine.audit, "LIST_PAGE", 2)
    now = time.time() + 60
    report = await _audit_at(harness, now, since=now - boundary)
    assert {f.tx_id for f in report.findings} == {tx.id for tx in new}
    assert not {f.tx_id for f in report.findings} & {tx.id for tx in old}
    treasury = next(w for w in report.wallets if w.label == "treasury")
    assert treasury.list_reads == 2 and treasury.transactions == 3  # 2 + 1, then older
    assert report.complete


async def test_list_reads_that_run_out_leave_the_audit_incomplete(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    for _ in range(3):
        await daemon.post(daemon.address("agent"), wei("0.001"))
    monkeypatch.setattr(runner.engine.audit, "LIST_PAGE", 2)
    requests: list[str] = []
    report = await run_audit(harness, max_list_reads=2, on_request=requests.append)
    assert requests.count("GET /v1/transactions") == 2  # never more than allowed
    assert not report.complete and report.exit_code is ExitCode.FAILED
    short = [w for w in report.wallets if not w.complete]
    assert short and "ran out" in (short[0].problem or "")


async def test_a_rate_limited_list_is_an_incomplete_audit_not_a_wait(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    treasury = harness.sandbox.wallet("treasury")["id"]
    async with WAIaaSClient(
        harness.sandbox.url, harness.sandbox.token, retry_policy=RetryPolicy(max_retries=0)
    ) as client:
        spent = 0
        while spent < 20:  # use up the daemon's 10 list reads a minute for this session
            try:
                await client.list_transactions(limit=1, wallet_id=treasury)
            except Exception:
                break
            spent += 1
    started = time.monotonic()
    report = await run_audit(harness)
    assert time.monotonic() - started < 5  # the 60 s Retry-After is not waited out
    assert not report.complete and report.exit_code is ExitCode.FAILED
    assert any("RATE_LIMITED" in (w.problem or "") for w in report.wallets)


async def _audit_at(harness: Harness, now: float, **settings: float) -> AuditReport:
    return await run_audit(harness, clock=lambda: now, **settings)


async def test_a_wallet_that_cannot_be_resolved_leaves_the_audit_incomplete(
    harness: Harness,
) -> None:
    path = harness.write(
        """\
        steps:
          - id: look
            balance: { wallet: ghost }
        """.replace("        ", "")
    )
    path.write_text(
        path.read_text().replace(
            "agent: { name: agent, network: ethereum-sepolia }",
            "agent: { name: agent, network: ethereum-sepolia }\n  ghost: { name: ghost }",
        )
    )
    report = await run_audit(harness, path)
    assert not report.complete and report.exit_code is ExitCode.FAILED
    assert any("ghost" in problem for problem in report.problems)
    assert {w.label for w in report.wallets} == {"treasury", "agent"}  # still read


async def test_a_copy_of_a_send_whose_transaction_is_in_question_is_no_double(
    harness: Harness,
) -> None:
    await harness.run(send_body("0.001 ETH"))
    daemon = Daemon(harness)
    # the ledger names a transaction the daemon does not know (a typo when resolving by
    # hand?); the identical queued transfer may be the send's real one: never cancelled
    record(
        harness,
        "exactly-once/typo/s",
        to=STRANGER,
        raw=wei("0.2"),
        tx_id="01900000-0000-7000-8000-000000000001",
    )
    real = await daemon.post(STRANGER, wei("0.2"))
    await until_status(daemon, real.id, "QUEUED")
    report = await run_audit(harness, cancel_queued=True)
    assert sorted(f.kind.value for f in report.findings) == ["mismatch", "unknown_to_daemon"]
    (maybe_own,) = [f for f in report.findings if f.kind is FindingKind.MISMATCH]
    assert maybe_own.tx_id == real.id and "may be the send's own" in maybe_own.summary
    assert report.cancels == [] and await daemon.status(real.id) == "QUEUED"


async def test_a_request_a_proxy_held_past_the_grace_is_found_afterwards(
    harness: Harness,
) -> None:
    """The README's first "cannot promise": the first request is lost on the way (the proxy
    holds it), reconciliation finds nothing, the send is posted again; then the held
    request reaches the daemon. The run cannot know; the audit finds the double."""
    port = int(harness.sandbox.url.rsplit(":", 1)[1])
    async with ManglingProxy(port) as proxy:
        proxy.rules.append(Rule("POST", "/v1/transactions/send", closed, forward=False))
        result, _ = await harness.run(send_body("0.001 ETH"), daemon_url=proxy.url, sleep=no_wait)
    assert result.exit_code == 0
    (send,) = harness.sends()
    assert send.state is SendState.ACCEPTED and send.tx_id is not None
    daemon = Daemon(harness)
    late = await daemon.post(daemon.address("agent"), wei("0.001"))  # the held request
    report = await run_audit(harness)
    assert [(f.kind, f.tx_id, f.send_key) for f in report.findings] == [
        (FindingKind.LIKELY_DOUBLE, late.id, send.key)
    ]


async def test_a_token_transfer_double_and_the_same_raw_amount_of_the_native_coin(
    harness: Harness,
) -> None:
    usdc = "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238"
    body = send_body("10 USDC")
    body += f'tokens:\n  USDC: {{ network: ethereum-sepolia, decimals: 6, address: "{usdc}" }}\n'
    await harness.run(body)
    (send,) = harness.sends()
    assert send.symbol == "USDC" and send.tx_id is not None
    daemon = Daemon(harness)
    agent = daemon.address("agent")
    treasury = harness.sandbox.wallet("treasury")["id"]
    token = {"address": usdc, "decimals": 6, "symbol": "USDC"}
    async with daemon.client() as client:
        double = await client.send_token(
            agent, 10_000_000, token=token, network="ethereum-sepolia", wallet_id=treasury
        )
    native = await daemon.post(agent, 10_000_000)  # same raw amount, but of the native coin
    report = await run_audit(harness)
    assert kinds(report) == sorted([("likely_double", double.id), ("foreign", native.id)])


async def test_a_send_from_a_wallet_the_session_cannot_read(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    request = TransferRequest(
        STRANGER, 5, network="solana-devnet", wallet_id="w-gone", symbol="SOL"
    )
    with Ledger(harness.state) as ledger:
        ledger.intend_send(
            key="exactly-once/gone/s",
            run_id="gone",
            playbook="exactly-once",
            step_id="s",
            request=request,
        )
    report = await run_audit(harness)
    assert not report.complete
    assert report.problems == [
        f"send exactly-once/gone/s came from wallet w-gone, which the session of "
        f"{harness.sandbox.url} cannot read"
    ]


async def test_cancel_queued_cancels_a_delay_tier_double_too(harness: Harness) -> None:
    # 0.07 ETH from the treasury is DELAY tier: QUEUED for the policy's delay (5 s)
    await harness.run(send_body("0.07 ETH"))
    (send,) = harness.sends()
    assert send.tx_id is not None
    daemon = Daemon(harness)
    double = await daemon.post(daemon.address("agent"), wei("0.07"))
    await until_status(daemon, double.id, "QUEUED")
    report = await run_audit(harness, cancel_queued=True)
    assert [(c.tx_id, c.cancelled) for c in report.cancels] == [(double.id, True)]
    assert await daemon.status(double.id) == "CANCELLED"
    assert await daemon.status(send.tx_id) != "CANCELLED"


async def test_the_audit_notes_the_daemons_status_of_sends_nobody_waited_on(
    harness: Harness,
) -> None:
    """A send without a wait step stays PENDING in the ledger, and retention keeps every
    unsettled send: the audit writes down the status the daemon reports (never over a
    final one, which would hide a mismatch), so such sends become prunable."""
    await harness.run(send_body("0.001 ETH"))
    (send,) = harness.sends()
    assert send.tx_id is not None
    daemon = Daemon(harness)
    await until_status(daemon, send.tx_id, "CONFIRMED")
    with Ledger(harness.state) as ledger:
        ledger.record_tx_status(send.tx_id, "PENDING")  # as a run that did not wait leaves it
    report = await run_audit(harness)
    assert report.findings == [] and report.complete
    (noted,) = harness.sends()
    assert noted.tx_status == "CONFIRMED"


async def test_the_audit_never_overwrites_a_final_status(harness: Harness) -> None:
    await harness.run(send_body("0.001 ETH"))
    (send,) = harness.sends()
    assert send.tx_id is not None
    await until_status(Daemon(harness), send.tx_id, "CONFIRMED")
    with Ledger(harness.state) as ledger:
        ledger.record_tx_status(send.tx_id, "FAILED")
    report = await run_audit(harness)
    assert [f.kind for f in report.findings] == [FindingKind.MISMATCH]
    (kept,) = harness.sends()
    assert kept.tx_status == "FAILED"
