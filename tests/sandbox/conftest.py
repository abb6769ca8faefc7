"""A sandbox on a frozen clock, and a client that talks to it over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from runner.sandbox import Clock, Sandbox

START = 1_800_000_000.0
RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ETH = 10**18


@pytest.fixture
def clock() -> Clock:
    return Clock(frozen=START)


@pytest.fixture
async def frozen(clock: Clock) -> AsyncIterator[Sandbox]:
    """Nothing moves until the test calls ``frozen.advance(seconds)``."""
    async with Sandbox(port=0, clock=clock) as running:
        yield running


@pytest.fixture
async def api(frozen: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(frozen) as client:
        yield client


def client_for(sandbox: Sandbox, token: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=sandbox.url,
        headers={"Authorization": f"Bearer {token or sandbox.token}"},
        timeout=5.0,
    )


async def send(
    api: httpx.AsyncClient, wallet_id: str, amount: int, to: str = RECIPIENT, **extra: Any
) -> str:
    body = {
        "walletId": wallet_id,
        "type": "TRANSFER",
        "to": to,
        "amount": str(amount),
        "network": "ethereum-sepolia",
        **extra,
    }
    response = await api.post("/v1/transactions/send", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PENDING"
    tx_id: str = response.json()["id"]
    return tx_id


async def status(api: httpx.AsyncClient, tx_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/transactions/{tx_id}")
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def balance(api: httpx.AsyncClient, wallet_id: str) -> int:
    response = await api.get(
        "/v1/wallet/balance", params={"walletId": wallet_id, "network": "ethereum-sepolia"}
    )
    assert response.status_code == 200, response.text
    return int(response.json()["balance"])
