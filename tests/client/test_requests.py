"""Each client method: the request it builds and how it reads the answer."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from runner.client import (
    InvalidResponseError,
    TokenSpec,
    TransactionStatus,
    TransferRequest,
    WAIaaSClient,
)
from tests.client import recorded
from tests.client.conftest import BASE, TOKEN, TX, WALLET, Recorder

MakeClient = Callable[..., WAIaaSClient]


def answer(status: int, body: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("call", "method", "path", "params", "body"),
    [
        (lambda c: c.health(), "GET", "/health", {}, recorded.HEALTH),
        (lambda c: c.get_connect_info(), "GET", "/v1/connect-info", {}, recorded.CONNECT_INFO),
        (
            lambda c: c.get_address(wallet_id=WALLET),
            "GET",
            "/v1/wallet/address",
            {"walletId": WALLET},
            recorded.ADDRESS,
        ),
        (
            lambda c: c.get_balance("ethereum-sepolia", wallet_id=WALLET),
            "GET",
            "/v1/wallet/balance",
            {"walletId": WALLET, "network": "ethereum-sepolia"},
            recorded.BALANCE,
        ),
        (
            lambda c: c.get_all_balances(),
            "GET",
            "/v1/wallet/balance",
            {"network": "all"},
            recorded.ALL_BALANCES,
        ),
        (
            lambda c: c.get_assets("ethereum-sepolia"),
            "GET",
            "/v1/wallet/assets",
            {"network": "ethereum-sepolia"},
            recorded.ASSETS,
        ),
        (
            lambda c: c.get_transaction(TX),
            "GET",
            f"/v1/transactions/{TX}",
            {},
            recorded.TRANSACTION,
        ),
        (
            lambda c: c.list_transactions(limit=2, cursor=TX, wallet_id=WALLET),
            "GET",
            "/v1/transactions",
            {"walletId": WALLET, "limit": "2", "cursor": TX},
            {"items": [recorded.TRANSACTION], "cursor": TX, "hasMore": True},
        ),
        (
            lambda c: c.list_pending_transactions(wallet_id=WALLET),
            "GET",
            "/v1/transactions/pending",
            {"walletId": WALLET},
            {"items": []},
        ),
        (
            lambda c: c.cancel_transaction(TX),
            "POST",
            f"/v1/transactions/{TX}/cancel",
            {},
            {"id": TX, "status": "CANCELLED"},
        ),
    ],
)
async def test_method_builds_request_and_parses(
    make_client: MakeClient,
    recorder: Recorder,
    call: Callable[[WAIaaSClient], Any],
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
) -> None:
    async with make_client(answer(200, body)) as client:
        result = await call(client)
    (request,) = recorder.requests
    assert request.method == method
    assert request.url.path == path
    assert dict(request.url.params) == params
    assert str(request.url).startswith(BASE)
    if path == "/health":
        assert "authorization" not in request.headers
    else:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert result.model_dump(by_alias=True, exclude_unset=True) == body


async def test_send_native_transfer(make_client: MakeClient, recorder: Recorder) -> None:
    async with make_client(answer(201, {"id": TX, "status": "PENDING"})) as client:
        result = await client.send_token(
            "0x7099", 10**15, network="ethereum-sepolia", wallet_id=WALLET, memo="top-up"
        )
    assert result.id == TX and result.status is TransactionStatus.PENDING
    (request,) = recorder.requests
    assert request.method == "POST" and request.url.path == "/v1/transactions/send"
    assert json.loads(request.content) == {
        "type": "TRANSFER",
        "to": "0x7099",
        "amount": "1000000000000000",
        "network": "ethereum-sepolia",
        "walletId": WALLET,
        "memo": "top-up",
    }


async def test_send_token_transfer_by_address(make_client: MakeClient, recorder: Recorder) -> None:
    token = TokenSpec(address="0xA0b8", decimals=6, symbol="USDC")
    async with make_client(answer(201, {"id": TX, "status": "PENDING"})) as client:
        await client.send_token("0x7099", "250000000", token=token, network="ethereum-sepolia")
    sent = json.loads(recorder.requests[0].content)
    assert sent["type"] == "TOKEN_TRANSFER"
    assert sent["token"] == {"address": "0xA0b8", "decimals": 6, "symbol": "USDC"}
    assert sent["amount"] == "250000000"
    assert "humanAmount" not in sent


async def test_send_token_transfer_by_asset_id(make_client: MakeClient, recorder: Recorder) -> None:
    async with make_client(answer(201, {"id": TX, "status": "PENDING"})) as client:
        await client.send_token("0x7099", 1, token={"asset_id": "eip155:1/erc20:0xa0b8"})
    assert json.loads(recorder.requests[0].content)["token"] == {"assetId": "eip155:1/erc20:0xa0b8"}


async def test_simulate_uses_the_same_body(make_client: MakeClient, recorder: Recorder) -> None:
    async with make_client(answer(200, recorded.SIMULATION)) as client:
        sim = await client.simulate(
            TransferRequest("0x7099", 7 * 10**16, network="ethereum-sepolia")
        )
    request = recorder.requests[0]
    assert request.url.path == "/v1/transactions/simulate"
    assert json.loads(request.content)["type"] == "TRANSFER"
    assert sim.tier == "DELAY"


async def test_simulate_transaction_dry_runs_what_send_token_would_post(
    make_client: MakeClient, recorder: Recorder
) -> None:
    """The public keyword form (issue #19 part 5): the same body as send_token, on the
    simulate path, read into the Simulation model."""
    token = {"address": "0xA0b8", "decimals": 6, "symbol": "USDC"}
    kwargs: dict[str, Any] = {
        "token": token,
        "network": "ethereum-sepolia",
        "wallet_id": WALLET,
        "memo": "top-up",
    }
    answers = iter([(200, recorded.SIMULATION), (201, {"id": TX, "status": "PENDING"})])

    def respond(request: httpx.Request) -> httpx.Response:
        status, body = next(answers)
        return httpx.Response(status, json=body)

    async with make_client(respond) as client:
        sim = await client.simulate_transaction("0x7099", "250000000", **kwargs)
        await client.send_token("0x7099", "250000000", **kwargs)
    simulated, sent = recorder.requests
    assert simulated.method == "POST" and simulated.url.path == "/v1/transactions/simulate"
    assert sent.url.path == "/v1/transactions/send"
    assert json.loads(simulated.content) == json.loads(sent.content)
    assert json.loads(simulated.content)["type"] == "TOKEN_TRANSFER"
    assert sim.tier == "DELAY" and sim.success is recorded.SIMULATION["success"]


async def test_simulate_transaction_validates_locally(
    make_client: MakeClient, recorder: Recorder
) -> None:
    async with make_client(answer(200, recorded.SIMULATION)) as client:
        with pytest.raises(ValueError, match="non-negative integer"):
            await client.simulate_transaction("0x1", "0.5")
        with pytest.raises(ValueError, match="needs a token"):
            await client.simulate_transaction("0x1", 1, type="TOKEN_TRANSFER")
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("to", "amount", "kwargs", "message"),
    [
        ("", 1, {}, "non-empty"),
        ("   ", 1, {}, "non-empty"),
        ("0x1", -1, {}, "non-negative integer"),
        ("0x1", "1.5", {}, "non-negative integer"),
        ("0x1", "1e3", {}, "non-negative integer"),
        ("0x1", "", {}, "non-negative integer"),
        ("0x1", "٣", {}, "non-negative integer"),
        ("0x1", 1.0, {}, "smallest unit"),
        ("0x1", Decimal("1"), {}, "smallest unit"),
        ("0x1", True, {}, "smallest unit"),
        ("0x1", 1, {"memo": "x" * 257}, "256"),
        ("0x1", 1, {"type": "TOKEN_TRANSFER"}, "needs a token"),
        (
            "0x1",
            1,
            {"type": "TRANSFER", "token": {"address": "0x", "decimals": 6, "symbol": "U"}},
            "needs a token",
        ),
    ],
)
async def test_send_validates_locally_before_any_request(
    make_client: MakeClient,
    recorder: Recorder,
    to: str,
    amount: Any,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    async with make_client(answer(201, {"id": TX, "status": "PENDING"})) as client:
        with pytest.raises(ValueError, match=message):
            await client.send_token(to, amount, **kwargs)
    assert recorder.requests == []


async def test_leading_zeros_are_normalised(make_client: MakeClient, recorder: Recorder) -> None:
    async with make_client(answer(201, {"id": TX, "status": "PENDING"})) as client:
        await client.send_token("0x1", "007")
    assert json.loads(recorder.requests[0].content)["amount"] == "7"


async def test_missing_fields_become_a_clear_error(make_client: MakeClient) -> None:
    async with make_client(answer(200, {"walletId": WALLET, "chain": "ethereum"})) as client:
        with pytest.raises(InvalidResponseError, match="not a valid WalletBalance") as caught:
            await client.get_balance("ethereum-sepolia")
    assert "balance" in str(caught.value)


async def test_html_with_200_is_a_clear_error(make_client: MakeClient) -> None:
    html = httpx.Response(200, content=b"<html>login</html>", headers={"content-type": "text/html"})
    async with make_client(lambda request: html) as client:
        with pytest.raises(InvalidResponseError, match="not a valid Transaction"):
            await client.get_transaction(TX)


async def test_bad_ids_never_build_a_path(make_client: MakeClient, recorder: Recorder) -> None:
    async with make_client(answer(200, {})) as client:
        for bad in ["", "../admin", "a/b", "x?y=1"]:
            with pytest.raises(ValueError, match="not a valid id"):
                await client.get_transaction(bad)
    assert recorder.requests == []


async def test_list_limit_bounds(make_client: MakeClient) -> None:
    async with make_client(answer(200, {})) as client:
        with pytest.raises(ValueError, match="between 1 and 100"):
            await client.list_transactions(limit=0)


async def test_network_all_is_refused_on_get_balance(make_client: MakeClient) -> None:
    async with make_client(answer(200, {})) as client:
        with pytest.raises(ValueError, match="get_all_balances"):
            await client.get_balance("all")


async def test_one_connection_pool_and_caller_owned_client_left_open() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(answer(200, recorded.HEALTH)))
    async with WAIaaSClient(BASE, TOKEN, http_client=http) as client:
        await client.health()
        await client.health()
    assert not http.is_closed  # the caller owns it
    await http.aclose()


async def test_own_pool_is_closed_on_exit() -> None:
    client = WAIaaSClient(BASE, TOKEN)
    async with client:
        pass
    assert client._http.is_closed


def test_plain_http_daemons_skip_the_ca_bundle_https_ones_verify() -> None:
    """No TLS connection can come from an http:// base (fixed paths, no redirects), so no
    CA bundle is loaded; an https:// daemon keeps full certificate verification."""
    plain = WAIaaSClient("http://127.0.0.1:3100", "t")
    secure = WAIaaSClient("https://daemon.example", "t")
    plain_context = plain._http._transport._pool._ssl_context  # type: ignore[attr-defined]
    secure_context = secure._http._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert secure_context.verify_mode is ssl.CERT_REQUIRED and secure_context.check_hostname
    assert plain_context.verify_mode is ssl.CERT_NONE
    assert plain._http.follow_redirects is False
