"""Each endpoint answers with the daemon's paths, shapes and error bodies (real HTTP)."""

from __future__ import annotations

import re

import httpx
import pytest

from runner.sandbox import Sandbox
from tests.sandbox.conftest import ETH, RECIPIENT, client_for, send, status

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TX_FIELDS = [
    "id",
    "walletId",
    "type",
    "status",
    "tier",
    "chain",
    "network",
    "toAddress",
    "amount",
    "txHash",
    "error",
    "createdAt",
    "displayAmount",
    "displayCurrency",
    "amountFormatted",
    "amountDecimals",
    "amountSymbol",
    "contractName",
    "contractNameSource",
    "chainId",
]


def _ids(sandbox: Sandbox) -> tuple[str, str, str]:
    return (
        sandbox.wallet("treasury")["id"],
        sandbox.wallet("agent")["id"],
        sandbox.wallet("solana-ops")["id"],
    )


async def test_every_answer_is_marked_and_carries_a_request_id(api: httpx.AsyncClient) -> None:
    response = await api.get("/health")
    assert response.headers["X-WAIaaS-Sandbox"] == "1"
    assert UUID7.match(response.headers["X-Request-Id"])
    echoed = await api.get("/health", headers={"X-Request-Id": "mine-1"})
    assert echoed.headers["X-Request-Id"] == "mine-1"


async def test_health(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    frozen.advance(9)
    body = (await api.get("/health")).json()
    assert body == {
        "status": "ok",
        "version": "2.15.0",
        "latestVersion": None,
        "updateAvailable": False,
        "schemaVersion": 62,
        "uptime": 9,
        "timestamp": 1_800_000_009,
    }


async def test_address_balance_and_assets_shapes(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, _, _ = _ids(frozen)
    address = (await api.get("/v1/wallet/address", params={"walletId": treasury})).json()
    assert address == {
        "walletId": treasury,
        "chain": "ethereum",
        "network": "ethereum",
        "environment": "testnet",
        "address": frozen.wallet("treasury")["address"],
    }
    params = {"walletId": treasury, "network": "ethereum-sepolia"}
    balance = (await api.get("/v1/wallet/balance", params=params)).json()
    assert balance == {
        "walletId": treasury,
        "chain": "ethereum",
        "network": "ethereum-sepolia",
        "address": address["address"],
        "balance": str(10 * ETH),
        "decimals": 18,
        "symbol": "ETH",
        "balanceFormatted": "10",
        "displayBalance": None,
        "displayCurrency": "USD",
        "chainId": "eip155:11155111",
        "assetId": "eip155:11155111/slip44:60",
    }
    assets = (await api.get("/v1/wallet/assets", params=params)).json()
    assert list(assets) == ["walletId", "chain", "network", "assets", "displayCurrency", "chainId"]
    native, usdc = assets["assets"]
    assert native["mint"] == "native" and native["isNative"] is True
    assert native["balance"] == str(10 * ETH) and native["name"] == "Ether"
    assert usdc["symbol"] == "USDC" and usdc["decimals"] == 6
    assert usdc["balance"] == "5000000000" and usdc["balanceFormatted"] == "5000"
    assert usdc["assetId"] == "eip155:11155111/erc20:0x1c7d4b196cb0c7b01d743fbc6116a902379c7238"


async def test_balance_for_all_networks(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, _, _ = _ids(frozen)
    body = (
        await api.get("/v1/wallet/balance", params={"walletId": treasury, "network": "all"})
    ).json()
    assert list(body) == ["walletId", "chain", "environment", "balances"]
    networks = [entry["network"] for entry in body["balances"]]
    assert networks[0] == "ethereum-sepolia" and "polygon-amoy" in networks
    assert body["balances"][0] == {
        "network": "ethereum-sepolia",
        "balance": str(10 * ETH),
        "decimals": 18,
        "symbol": "ETH",
        "balanceFormatted": "10",
    }
    assets = (
        await api.get("/v1/wallet/assets", params={"walletId": treasury, "network": "all"})
    ).json()
    assert assets["networkAssets"][0]["network"] == "ethereum-sepolia"


async def test_solana_wallet_resolves_its_network(frozen: Sandbox) -> None:
    _, _, solana = _ids(frozen)
    _, token = frozen.create_session(["solana-ops"])
    async with client_for(frozen, token) as single:  # one wallet: no walletId needed
        balance = (await single.get("/v1/wallet/balance")).json()
        assert balance["walletId"] == solana and balance["network"] == "solana-devnet"
        assert balance["decimals"] == 9 and balance["symbol"] == "SOL"
        assert balance["balanceFormatted"] == "5"
        address = (await single.get("/v1/wallet/address")).json()
        assert address["network"] == "solana-devnet"


async def test_wallet_selection_rules(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    _, _, solana = _ids(frozen)
    missing = await api.get("/v1/wallet/address")
    assert missing.status_code == 400 and missing.json()["code"] == "WALLET_ID_REQUIRED"
    foreign = await api.get("/v1/wallet/address", params={"walletId": solana})
    assert foreign.status_code == 403 and foreign.json()["code"] == "WALLET_ACCESS_DENIED"


async def test_network_rules(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, _, _ = _ids(frozen)
    missing = await api.get("/v1/wallet/balance", params={"walletId": treasury})
    assert missing.status_code == 400
    body = missing.json()
    assert body["code"] == "NETWORK_REQUIRED" and body["retryable"] is False
    assert body["message"] == "Network query parameter is required for ethereum wallets"
    assert list(body) == ["code", "message", "requestId", "retryable"]
    wrong = await api.get(
        "/v1/wallet/balance", params={"walletId": treasury, "network": "ethereum-mainnet"}
    )
    assert wrong.json()["code"] == "ENVIRONMENT_NETWORK_MISMATCH"
    legacy = await api.post(
        "/v1/transactions/send", json={"walletId": treasury, "to": RECIPIENT, "amount": "1000"}
    )
    assert legacy.status_code == 400
    assert legacy.json()["message"] == (
        "Network is required for ethereum wallets in testnet environment"
    )
    assert legacy.json()["code"] == "ENVIRONMENT_NETWORK_MISMATCH"
    assert frozen.transaction_count() == 0


async def test_send_bodies(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, _, _ = _ids(frozen)
    legacy = await api.post(
        "/v1/transactions/send",
        json={
            "walletId": treasury,
            "to": RECIPIENT,
            "amount": "1000",
            "network": "ethereum-sepolia",
        },
    )
    assert legacy.status_code == 201
    assert list(legacy.json()) == ["id", "status"] and UUID7.match(legacy.json()["id"])
    human = await api.post(
        "/v1/transactions/send",
        json={
            "walletId": treasury,
            "type": "TRANSFER",
            "to": RECIPIENT,
            "humanAmount": "0.0020000000000000009",
            "network": "ethereum-sepolia",
        },
    )  # digits past 18 decimals are cut, as the daemon does
    assert (await status(api, human.json()["id"]))["amount"] == "2000000000000000"
    token = await api.post(
        "/v1/transactions/send",
        json={
            "walletId": treasury,
            "type": "TOKEN_TRANSFER",
            "to": RECIPIENT,
            "amount": "2500000",
            "network": "ethereum-sepolia",
            "token": {
                "address": "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238",
                "decimals": 6,
                "symbol": "USDC",
            },
        },
    )
    assert token.status_code == 201
    detail = await status(api, token.json()["id"])
    assert detail["type"] == "TOKEN_TRANSFER" and detail["amountSymbol"] is None


async def test_send_validation_errors(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, _, _ = _ids(frozen)
    base = {"walletId": treasury, "type": "TRANSFER", "network": "ethereum-sepolia"}
    no_to = (await api.post("/v1/transactions/send", json={**base, "amount": "1"})).json()
    assert no_to["code"] == "ACTION_VALIDATION_FAILED" and no_to["message"] == "Validation error"
    assert no_to["details"] == {"issues": [{"path": "to", "message": "Required"}]}
    assert list(no_to) == ["code", "message", "details", "requestId", "retryable"]
    decimal = (
        await api.post("/v1/transactions/send", json={**base, "to": RECIPIENT, "amount": "0.5"})
    ).json()
    assert decimal["details"]["issues"][0] == {
        "path": "amount",
        "message": "amount must be a numeric string (lamports/wei)",
    }
    neither = (await api.post("/v1/transactions/send", json={**base, "to": RECIPIENT})).json()
    assert neither["message"] == "Either amount or humanAmount must be provided."
    malformed = await api.post(
        "/v1/transactions/send", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 500 and malformed.json()["code"] == "INTERNAL_ERROR"
    assert frozen.transaction_count() == 0  # an error answer never creates a transaction


async def test_transaction_detail_and_not_found(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, _, _ = _ids(frozen)
    tx_id = await send(api, treasury, ETH // 1000)
    detail = await status(api, tx_id)
    assert list(detail) == TX_FIELDS
    assert detail["amountFormatted"] == "0.001" and detail["amountDecimals"] == 18
    assert detail["createdAt"] == 1_800_000_000 and detail["chainId"] == "eip155:11155111"
    unknown = await api.get("/v1/transactions/00000000-0000-7000-8000-000000000000")
    assert unknown.status_code == 404
    assert unknown.json()["hint"] == (
        "Verify the transaction ID. List transactions via GET /v1/transactions."
    )
    assert (await api.get("/v1/transactions/not-a-uuid")).status_code == 400


async def test_list_is_newest_first_with_cursor(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, _, _ = _ids(frozen)
    sent = [await send(api, treasury, 1000 + n) for n in range(3)]
    first = (await api.get("/v1/transactions", params={"walletId": treasury, "limit": 2})).json()
    assert [item["id"] for item in first["items"]] == [sent[2], sent[1]]
    assert first["hasMore"] is True and first["cursor"] == sent[1]
    second = (
        await api.get(
            "/v1/transactions", params={"walletId": treasury, "limit": 2, "cursor": first["cursor"]}
        )
    ).json()
    assert [item["id"] for item in second["items"]] == [sent[0]]
    assert second == {**second, "cursor": None, "hasMore": False}


async def test_pending_lists_pending_and_queued_only(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    treasury, _, _ = _ids(frozen)
    await send(api, treasury, ETH // 1000)  # INSTANT: confirmed soon
    queued = await send(api, treasury, 7 * ETH // 100)  # DELAY tier
    frozen.advance(2)
    body = (await api.get("/v1/transactions/pending", params={"walletId": treasury})).json()
    assert [item["id"] for item in body["items"]] == [queued]
    assert "amountFormatted" not in body["items"][0]
    assert body["items"][0]["status"] == "QUEUED" and body["items"][0]["tier"] == "DELAY"


async def test_unknown_route_is_a_bare_404(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    response = await api.post("/v1/transactions/x/approve")
    assert response.status_code == 404 and response.text == "404 Not Found"
    async with httpx.AsyncClient(base_url=frozen.url) as anonymous:  # B.46: auth comes first
        refused = await anonymous.post("/v1/transactions/x/approve")
        assert refused.status_code == 401 and refused.json()["code"] == "INVALID_TOKEN"
        assert (await anonymous.get("/nowhere")).text == "404 Not Found"


async def test_host_guard(frozen: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=frozen.url, headers={"Host": "wallet.internal"}) as c:
        response = await c.get("/health")
    assert response.status_code == 503
    assert response.json()["code"] == "SYSTEM_LOCKED"


async def test_connect_info(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    body = (await api.get("/v1/connect-info")).json()
    assert body["session"] == {"id": frozen.session_id, "expiresAt": 0, "source": "api"}
    assert [w["name"] for w in body["wallets"]] == ["treasury", "agent"]
    assert body["wallets"][0]["availableNetworks"][0] == "ethereum-sepolia"
    treasury = frozen.wallet("treasury")["id"]
    assert body["policies"][treasury][0]["type"] == "SPENDING_LIMIT"
    assert body["daemon"]["version"] == "2.15.0"


async def test_simulate(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, _, _ = _ids(frozen)
    body = {
        "walletId": treasury,
        "type": "TRANSFER",
        "to": RECIPIENT,
        "amount": str(7 * ETH // 100),
        "network": "ethereum-sepolia",
    }
    result = (await api.post("/v1/transactions/simulate", json=body)).json()
    assert result["success"] is True
    assert result["policy"] == {"tier": "DELAY", "allowed": True, "delaySeconds": 5}
    assert result["fee"]["estimatedFee"] == "42000000000000"
    assert result["balanceChanges"][0]["afterBalance"] == str(10 * ETH - 7 * ETH // 100)
    too_much = (
        await api.post("/v1/transactions/simulate", json={**body, "amount": str(100 * ETH)})
    ).json()
    assert too_much["simulation"]["success"] is False
    assert "INSUFFICIENT_BALANCE" in [w["code"] for w in too_much["warnings"]]
    legacy = await api.post(
        "/v1/transactions/simulate", json={k: v for k, v in body.items() if k != "type"}
    )
    assert legacy.status_code == 400 and legacy.json()["code"] == "VALIDATION_FAILED"
    assert frozen.transaction_count() == 0


@pytest.mark.parametrize(
    ("extra", "path", "message"),
    [
        ({"type": "SWAP"}, "type", "Invalid discriminator value"),
        ({"memo": "x" * 257}, "memo", "at most 256"),
        ({"amount": 1000}, "amount", "numeric string"),
        ({"network": "mars-mainnet"}, "network", "Invalid network"),
        ({"type": "TOKEN_TRANSFER"}, "token", "Required"),
    ],
)
async def test_more_validation_errors(
    api: httpx.AsyncClient, frozen: Sandbox, extra: dict[str, object], path: str, message: str
) -> None:
    body = {
        "walletId": frozen.wallet("treasury")["id"],
        "type": "TRANSFER",
        "to": RECIPIENT,
        "amount": "1000",
        "network": "ethereum-sepolia",
        **extra,
    }
    answer = await api.post("/v1/transactions/send", json=body)
    assert answer.status_code == 400
    issue = answer.json()["details"]["issues"][0]
    assert issue["path"] == path and message in issue["message"]


async def test_unsupported_types_are_refused_plainly(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    answer = await api.post(
        "/v1/transactions/send",
        json={
            "walletId": frozen.wallet("treasury")["id"],
            "type": "CONTRACT_CALL",
            "to": RECIPIENT,
            "network": "ethereum-sepolia",
        },
    )
    assert answer.status_code == 400 and "TRANSFER and TOKEN_TRANSFER" in answer.json()["message"]


async def test_solana_send_in_lamports(frozen: Sandbox) -> None:
    _, token = frozen.create_session(["solana-ops"])
    peer = "CqL3THaxJ1wCfokTMLuUepJygWoUULAFMJAXXZdqGvvS"
    async with client_for(frozen, token) as api:
        sent = await api.post(
            "/v1/transactions/send", json={"to": peer, "amount": "1000000000", "network": "devnet"}
        )
        assert sent.status_code == 201  # legacy body and legacy network name
        frozen.advance(2)
        detail = await status(api, sent.json()["id"])
        assert detail["status"] == "CONFIRMED" and detail["network"] == "solana-devnet"
        assert detail["amountFormatted"] == "1" and detail["amountSymbol"] == "SOL"
        assert len(detail["txHash"]) > 80  # a base58 signature, not a 0x hash
        balance = (await api.get("/v1/wallet/balance")).json()
        assert balance["balance"] == str(5 * 10**9 - 10**9 - 5000)
