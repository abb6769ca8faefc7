"""Every fault mode, set in-process, over the control endpoint, and from CLI syntax."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from runner.sandbox import FaultRule, Sandbox, parse_fault
from tests.sandbox.conftest import ETH, RECIPIENT, send

SEND = "/v1/transactions/send"


def _send_body(sandbox: Sandbox) -> dict[str, str]:
    return {
        "walletId": sandbox.wallet("treasury")["id"],
        "type": "TRANSFER",
        "to": RECIPIENT,
        "amount": str(ETH // 1000),
        "network": "ethereum-sepolia",
    }


async def test_latency(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    frozen.add_fault("GET /health latency=0.2")
    started = time.monotonic()
    response = await api.get("/health")
    assert response.status_code == 200 and time.monotonic() - started >= 0.2


async def test_429_with_retry_after_like_the_limiter(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    frozen.add_fault("POST /v1/transactions/send status=429 retry_after=7")
    response = await api.post(SEND, json=_send_body(frozen))
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response.json() == {
        "code": "RATE_LIMITED",
        "message": "Session rate limit exceeded",
        "retryable": True,
    }
    assert frozen.transaction_count() == 0


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (500, "INTERNAL_ERROR", False),
        (502, "CHAIN_ERROR", True),
        (503, "ADAPTER_NOT_AVAILABLE", True),
        (504, "TRANSACTION_TIMEOUT", True),
    ],
)
async def test_5xx_with_the_daemon_body(
    api: httpx.AsyncClient, frozen: Sandbox, status: int, code: str, retryable: bool
) -> None:
    frozen.add_fault(f"POST /v1/transactions/send status={status}")
    response = await api.post(SEND, json=_send_body(frozen))
    body = response.json()
    assert response.status_code == status and body["code"] == code
    assert body["retryable"] is retryable and body["requestId"] == response.headers["X-Request-Id"]
    assert frozen.transaction_count() == 0  # the daemon's error body: nothing was created


async def test_any_daemon_code_can_be_injected(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    frozen.add_fault("GET /v1/wallet/address status=401 code=TOKEN_EXPIRED times=1")
    body = (await api.get("/v1/wallet/address")).json()
    assert body["code"] == "TOKEN_EXPIRED" and body["retryable"] is False
    assert body["hint"].startswith("Renew the session")
    frozen.add_fault("GET /health status=503 code=SYSTEM_LOCKED message=locked")
    assert (await api.get("/health")).json()["message"] == "locked"


async def test_bare_proxy_body(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    frozen.add_fault("GET /v1/wallet/* status=502 body=proxy")
    response = await api.get("/v1/wallet/address")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text


async def test_accept_then_drop_creates_the_transaction(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    frozen.add_fault("POST /v1/transactions/send drop times=1")
    with pytest.raises(httpx.TransportError):
        await api.post(SEND, json=_send_body(frozen))
    assert frozen.transaction_count() == 1  # the client never heard about it
    listed = await api.get("/v1/transactions", params={"walletId": frozen.wallet("treasury")["id"]})
    assert listed.json()["items"][0]["toAddress"] == RECIPIENT
    assert (await api.post(SEND, json=_send_body(frozen))).status_code == 201  # recovered


async def test_hang_until_the_client_gives_up(frozen: Sandbox) -> None:
    frozen.add_fault("GET /v1/wallet/balance hang")
    async with httpx.AsyncClient(
        base_url=frozen.url, timeout=0.3, headers={"Authorization": f"Bearer {frozen.token}"}
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/v1/wallet/balance")
        assert (await client.get("/health")).status_code == 200  # others still served


async def test_shutdown_releases_a_hanging_request(frozen: Sandbox) -> None:
    frozen.add_fault("GET /health hang")
    async with httpx.AsyncClient(base_url=frozen.url, timeout=5) as client:
        pending = asyncio.create_task(client.get("/health"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await frozen.close()
        with pytest.raises(httpx.TransportError):
            await pending
    assert time.monotonic() - started < 2


async def test_fail_next_n_then_recover(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    frozen.add_fault("GET /health status=503 times=2")
    codes = [(await api.get("/health")).status_code for _ in range(3)]
    assert codes == [503, 503, 200]


async def test_faults_through_the_control_endpoint(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    added = await api.post(
        "/_sandbox/faults", json={"method": "POST", "path": SEND, "status": 503, "times": 5}
    )
    assert added.status_code == 201
    rule_id = added.json()["id"]
    listed = (await api.get("/_sandbox/faults")).json()["faults"]
    assert listed == [
        {
            "id": rule_id,
            "method": "POST",
            "path": SEND,
            "latency": 0.0,
            "hold": 0.0,
            "status": 503,
            "body": "daemon",
            "times": 5,
            "remaining": 5,
        }
    ]
    assert (await api.post(SEND, json=_send_body(frozen))).status_code == 503
    assert (await api.delete(f"/_sandbox/faults/{rule_id}")).json()["removed"] is True
    await send(api, frozen.wallet("treasury")["id"], 1000)
    await api.post("/_sandbox/faults", json={"path": "/health", "status": 500})
    assert (await api.delete("/_sandbox/faults")).json() == {"faults": []}
    assert (await api.get("/health")).status_code == 200
    invalid = await api.post("/_sandbox/faults", json={"path": "/health", "status": 418})
    assert invalid.status_code == 400


async def test_faults_set_at_start() -> None:
    async with (
        Sandbox(port=0, faults=["GET /health status=500"]) as sandbox,
        httpx.AsyncClient(base_url=sandbox.url) as client,
    ):
        assert (await client.get("/health")).status_code == 500
        assert (await client.get("/_sandbox/info")).status_code == 200  # never faulted


def test_fault_syntax() -> None:
    rule = parse_fault("POST /v1/transactions/send status=502 body=proxy times=3")
    assert rule == FaultRule(method="POST", path=SEND, status=502, body="proxy", times=3)
    assert parse_fault("GET /v1/* latency=0.5").latency == 0.5
    for bad in [
        "GET /health",
        "GET /health explode",
        "GET /health status=200",
        "GET /health drop status=503",
        "GET /health status=418",
    ]:
        with pytest.raises(ValueError):
            parse_fault(bad)


async def test_hold_delays_the_answer_after_the_send_took_effect(frozen: Sandbox) -> None:
    frozen.add_fault("POST /v1/transactions/send hold=5 times=1")
    async with httpx.AsyncClient(base_url=frozen.url, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(
                SEND, json=_send_body(frozen), headers={"Authorization": f"Bearer {frozen.token}"}
            )
    assert frozen.transaction_count() == 1  # created, though the client never heard back
