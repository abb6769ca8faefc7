"""The project's own client against the sandbox, end to end over real HTTP.

Shows that every answer fits the client's models, and the client's retry and ambiguity
rules on the faults they exist for: accept-then-drop on send ends with exactly one
transaction and an AmbiguousSendError, never a second send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from runner.client import (
    AmbiguousSendError,
    RetryPolicy,
    SessionRenewalError,
    TransactionStatus,
    TransferRequest,
    WAIaaSClient,
    WAIaaSError,
)
from runner.sandbox import Sandbox
from tests.sandbox.conftest import ETH, RECIPIENT

NETWORK = "ethereum-sepolia"


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
async def client(frozen: Sandbox, waits: list[float]) -> AsyncIterator[WAIaaSClient]:
    async def sleep(seconds: float) -> None:  # retries wait on the sandbox clock, not for real
        waits.append(seconds)
        frozen.advance(seconds)

    policy = RetryPolicy(sleep=sleep)
    async with WAIaaSClient(frozen.url, frozen.token, retry_policy=policy, timeout=2.0) as c:
        yield c


async def test_every_read_and_write_fits_the_client_models(
    client: WAIaaSClient, frozen: Sandbox
) -> None:
    treasury = frozen.wallet("treasury")["id"]
    assert (await client.health()).version == "2.15.0"
    info = await client.get_connect_info()
    assert [wallet.name for wallet in info.wallets] == ["treasury", "agent"]
    assert (await client.get_address(wallet_id=treasury)).network == "ethereum"
    balance = await client.get_balance(NETWORK, wallet_id=treasury)
    assert balance.balance == str(10 * ETH) and balance.decimals == 18
    assert len((await client.get_all_balances(wallet_id=treasury)).balances) == 6
    assets = await client.get_assets(NETWORK, wallet_id=treasury)
    assert [asset.symbol for asset in assets.assets] == ["ETH", "USDC"]
    simulation = await client.simulate(
        TransferRequest(RECIPIENT, 7 * ETH // 100, network=NETWORK, wallet_id=treasury)
    )
    assert simulation is not None
    sent = await client.send_token(RECIPIENT, ETH // 1000, network=NETWORK, wallet_id=treasury)
    assert sent.status == TransactionStatus.PENDING
    frozen.advance(2)
    detail = await client.get_transaction(sent.id)
    assert detail.status == TransactionStatus.CONFIRMED and detail.tx_hash
    queued = await client.send_token(RECIPIENT, 7 * ETH // 100, network=NETWORK, wallet_id=treasury)
    frozen.advance(0.1)
    pending = await client.list_pending_transactions(wallet_id=treasury)
    assert [tx.id for tx in pending.items] == [queued.id]
    assert (await client.cancel_transaction(queued.id)).status == TransactionStatus.CANCELLED
    listed = await client.list_transactions(limit=1, wallet_id=treasury)
    assert listed.items[0].id == queued.id and listed.has_more
    token = await client.send_token(
        RECIPIENT,
        1_500_000,
        network=NETWORK,
        wallet_id=treasury,
        token={
            "address": "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238",
            "decimals": 6,
            "symbol": "USDC",
        },
    )
    frozen.advance(2)
    assert (await client.get_transaction(token.id)).status == TransactionStatus.CONFIRMED


async def test_accept_then_drop_on_send_leaves_exactly_one_transaction(
    client: WAIaaSClient, frozen: Sandbox
) -> None:
    treasury = frozen.wallet("treasury")["id"]
    frozen.add_fault("POST /v1/transactions/send drop times=1")
    with pytest.raises(AmbiguousSendError) as caught:
        await client.send_token(RECIPIENT, 12345, network=NETWORK, wallet_id=treasury)
    assert caught.value.request["amount"] == "12345"
    assert frozen.transaction_count() == 1  # created once, never re-sent
    listed = await client.list_transactions(wallet_id=treasury)
    assert [(tx.to_address, tx.amount) for tx in listed.items] == [(RECIPIENT, "12345")]


async def test_retryable_daemon_errors_on_send_are_retried_safely(
    client: WAIaaSClient, frozen: Sandbox, waits: list[float]
) -> None:
    frozen.add_fault("POST /v1/transactions/send status=503 times=2")
    sent = await client.send_token(
        RECIPIENT, 1000, network=NETWORK, wallet_id=frozen.wallet("treasury")["id"]
    )
    assert sent.status == TransactionStatus.PENDING
    assert waits == [1.0, 2.0]
    assert frozen.transaction_count() == 1


async def test_a_proxy_answer_on_send_is_ambiguous_not_retried(
    client: WAIaaSClient, frozen: Sandbox, waits: list[float]
) -> None:
    frozen.add_fault("POST /v1/transactions/send status=502 body=proxy times=1")
    with pytest.raises(AmbiguousSendError):
        await client.send_token(
            RECIPIENT, 1000, network=NETWORK, wallet_id=frozen.wallet("treasury")["id"]
        )
    assert waits == []


async def test_a_hanging_send_times_out_as_ambiguous(frozen: Sandbox) -> None:
    frozen.add_fault("POST /v1/transactions/send hang times=1")
    async with WAIaaSClient(frozen.url, frozen.token, timeout=0.3) as client:
        with pytest.raises(AmbiguousSendError):
            await client.send_token(
                RECIPIENT, 1000, network=NETWORK, wallet_id=frozen.wallet("treasury")["id"]
            )


async def test_reads_retry_through_rate_limits_and_5xx(
    client: WAIaaSClient, frozen: Sandbox, waits: list[float]
) -> None:
    treasury = frozen.wallet("treasury")["id"]
    for _ in range(10):
        await client.list_transactions(wallet_id=treasury)
    await client.list_transactions(wallet_id=treasury)  # 11th: 429, waits Retry-After, retries
    assert waits == [60.0]
    frozen.add_fault("GET /v1/wallet/balance status=502 body=proxy times=1")
    assert (await client.get_balance(NETWORK, wallet_id=treasury)).symbol == "ETH"
    frozen.add_fault("GET /v1/wallet/balance status=500 times=1")  # not retryable
    with pytest.raises(WAIaaSError) as caught:
        await client.get_balance(NETWORK, wallet_id=treasury)
    assert caught.value.code == "INTERNAL_ERROR" and caught.value.daemon_body


async def test_session_renewal(frozen: Sandbox) -> None:
    _, token = frozen.create_session(["agent"], ttl=300)
    async with WAIaaSClient(frozen.url, token) as client:
        with pytest.raises(SessionRenewalError) as early:
            await client.renew_session()
        assert early.value.code == "RENEWAL_TOO_EARLY"
        frozen.advance(160)
        renewed = await client.renew_session()
        assert renewed.renewal_count == 1 and client.session_token != token
        frozen.advance(200)  # past the old token's exp, inside the new one's
        assert (await client.get_address()).chain == "ethereum"
    async with WAIaaSClient(frozen.url, token) as stale:
        with pytest.raises(WAIaaSError) as expired:
            await stale.get_address()
        assert expired.value.code == "TOKEN_EXPIRED"
