"""The sandbox's answers have the recorded daemon's keys, key order and JSON types."""

from __future__ import annotations

from typing import Any

import httpx

from runner.sandbox import Sandbox
from tests.client import recorded
from tests.sandbox.conftest import send


def _shape(value: Any) -> Any:
    """Keys (in order) and JSON types, recursively; list shape = shape of its first item."""
    if isinstance(value, dict):
        return [(key, _shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


async def test_reads_match_the_recorded_shapes(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury = frozen.wallet("treasury")["id"]
    params = {"walletId": treasury, "network": "ethereum-sepolia"}
    address = (await api.get("/v1/wallet/address", params={"walletId": treasury})).json()
    assert _shape(address) == _shape(recorded.ADDRESS)
    balance = (await api.get("/v1/wallet/balance", params=params)).json()
    assert _shape(balance) == _shape(recorded.BALANCE)
    assets = (await api.get("/v1/wallet/assets", params=params)).json()
    assert _shape(assets) == _shape(recorded.ASSETS)
    all_balances = await api.get("/v1/wallet/balance", params={**params, "network": "all"})
    assert _shape(all_balances.json()) == _shape(recorded.ALL_BALANCES)
    health = (await api.get("/health")).json()
    assert _shape(health) == _shape(recorded.HEALTH)


async def test_transaction_matches_the_recorded_shape(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    tx_id = await send(api, frozen.wallet("treasury")["id"], 10**15)
    frozen.advance(2)  # CONFIRMED, like the recorded one (txHash set, error null)
    detail = (await api.get(f"/v1/transactions/{tx_id}")).json()
    assert _shape(detail) == _shape(recorded.TRANSACTION)


async def test_connect_info_and_simulation_carry_the_documented_keys(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    info = (await api.get("/v1/connect-info")).json()
    assert set(recorded.CONNECT_INFO) <= set(info)
    assert set(recorded.CONNECT_INFO["wallets"][0]) <= set(info["wallets"][0])
    body = {
        "walletId": frozen.wallet("treasury")["id"],
        "type": "TRANSFER",
        "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "amount": "70000000000000000",
        "network": "ethereum-sepolia",
    }
    simulation = (await api.post("/v1/transactions/simulate", json=body)).json()
    assert set(recorded.SIMULATION) <= set(simulation)
    assert _shape(simulation["fee"]) == _shape(recorded.SIMULATION["fee"])
    assert _shape(simulation["balanceChanges"]) == _shape(recorded.SIMULATION["balanceChanges"])
