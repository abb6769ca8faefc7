"""Status sequences per tier, failures, policy cancels and balances, on a frozen clock."""

from __future__ import annotations

import httpx
import pytest

from runner.sandbox import Sandbox
from tests.sandbox.conftest import ETH, RECIPIENT, balance, client_for, send, status

FEE = 42_000_000_000_000  # the default fixture's ethereum-sepolia fee


async def _sequence(
    api: httpx.AsyncClient, sandbox: Sandbox, tx_id: str, steps: list[float]
) -> list[tuple[str, str | None, bool]]:
    """(status, tier, has txHash) now and after each clock step."""
    seen = []
    for step in [0.0, *steps]:
        if step:
            sandbox.advance(step)
        detail = await status(api, tx_id)
        seen.append((detail["status"], detail["tier"], detail["txHash"] is not None))
    return seen


@pytest.mark.parametrize(("amount", "tier"), [(ETH // 100, "INSTANT"), (3 * ETH // 100, "NOTIFY")])
async def test_instant_and_notify(
    api: httpx.AsyncClient, frozen: Sandbox, amount: int, tier: str
) -> None:
    tx_id = await send(api, frozen.wallet("treasury")["id"], amount)
    assert await _sequence(api, frozen, tx_id, [0.1, 1.5]) == [
        ("PENDING", None, False),
        ("SUBMITTED", tier, True),
        ("CONFIRMED", tier, True),
    ]


async def test_delay_queues_then_executes(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    tx_id = await send(api, frozen.wallet("treasury")["id"], 7 * ETH // 100)
    assert await _sequence(api, frozen, tx_id, [0.1, 4.8, 0.2, 0.2, 1.5]) == [
        ("PENDING", None, False),
        ("QUEUED", "DELAY", False),
        ("QUEUED", "DELAY", False),
        ("EXECUTING", "DELAY", False),
        ("SUBMITTED", "DELAY", True),
        ("CONFIRMED", "DELAY", True),
    ]


async def test_approval_approved(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    tx_id = await send(api, frozen.wallet("treasury")["id"], ETH // 2)
    frozen.advance(0.1)
    assert (await status(api, tx_id))["status"] == "QUEUED"
    frozen.advance(3000)  # waits for the owner, not for a timer
    assert (await status(api, tx_id))["tier"] == "APPROVAL"
    approved = await api.post(f"/_sandbox/transactions/{tx_id}/approve")
    assert approved.json()["status"] == "EXECUTING"
    assert await _sequence(api, frozen, tx_id, [0.2, 1.5]) == [
        ("EXECUTING", "APPROVAL", False),
        ("SUBMITTED", "APPROVAL", True),
        ("CONFIRMED", "APPROVAL", True),
    ]


async def test_approval_rejected_or_expired(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury = frozen.wallet("treasury")["id"]
    rejected, expiring = await send(api, treasury, ETH // 2), await send(api, treasury, ETH // 2)
    frozen.advance(0.1)
    frozen.reject(rejected)
    assert (await status(api, rejected))["status"] == "CANCELLED"
    frozen.advance(3600)
    assert (await status(api, expiring))["status"] == "EXPIRED"
    late = await api.post(f"/_sandbox/transactions/{expiring}/approve")
    assert late.status_code == 409


async def test_approval_without_owner_is_downgraded_to_delay(frozen: Sandbox) -> None:
    from runner.sandbox import load_fixture

    fixture = load_fixture()
    treasury = fixture.wallets[0].model_copy(update={"owner": None})
    ownerless = fixture.model_copy(update={"wallets": [treasury, *fixture.wallets[1:]]})
    async with (
        Sandbox(port=0, fixture=ownerless, clock=frozen.clock) as sandbox,
        client_for(sandbox) as api,
    ):
        tx_id = await send(api, sandbox.wallet("treasury")["id"], ETH // 2)
        assert await _sequence(api, sandbox, tx_id, [0.1, 299.5, 0.55]) == [
            ("PENDING", None, False),
            ("QUEUED", "DELAY", False),
            ("QUEUED", "DELAY", False),
            ("EXECUTING", "DELAY", False),
        ]


async def test_cancel_only_while_queued(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury = frozen.wallet("treasury")["id"]
    queued = await send(api, treasury, 7 * ETH // 100)
    frozen.advance(0.1)
    cancelled = await api.post(f"/v1/transactions/{queued}/cancel")
    assert cancelled.json() == {"id": queued, "status": "CANCELLED"}
    again = await api.post(f"/v1/transactions/{queued}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "TX_ALREADY_PROCESSED"
    frozen.advance(10)
    assert (await status(api, queued))["status"] == "CANCELLED"


async def test_insufficient_balance_fails_with_the_node_text(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    agent = frozen.wallet("agent")["id"]  # 0.02 ETH, no policy: everything INSTANT
    tx_id = await send(api, agent, 2 * ETH // 100)  # the fee does not fit on top
    frozen.advance(0.1)
    detail = await status(api, tx_id)
    assert detail["status"] == "FAILED" and detail["txHash"] is None
    assert detail["error"].startswith("Failed to submit transaction: Sender doesn't have enough")
    assert str(2 * ETH // 100 + FEE) in detail["error"]
    assert await balance(api, agent) == 2 * ETH // 100


async def test_invalid_address_fails(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    tx_id = await send(api, frozen.wallet("agent")["id"], 1000, to="0xnotanaddress")
    frozen.advance(0.1)
    detail = await status(api, tx_id)
    assert detail["status"] == "FAILED"
    assert detail["error"].startswith('Failed to build transaction: Address "0xnotanaddress"')


async def test_balances_change_on_confirmed(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury, agent = frozen.wallet("treasury")["id"], frozen.wallet("agent")["id"]
    agent_address = frozen.wallet("agent")["address"]
    tx_id = await send(api, treasury, ETH // 100, to=agent_address)
    frozen.advance(0.1)
    assert await balance(api, treasury) == 10 * ETH  # SUBMITTED: not yet
    frozen.advance(1.5)
    assert (await status(api, tx_id))["status"] == "CONFIRMED"
    assert await balance(api, treasury) == 10 * ETH - ETH // 100 - FEE
    assert await balance(api, agent) == 2 * ETH // 100 + ETH // 100


async def test_token_transfer_moves_tokens_and_pays_fee_in_eth(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    treasury = frozen.wallet("treasury")["id"]
    response = await api.post(
        "/v1/transactions/send",
        json={
            "walletId": treasury,
            "type": "TOKEN_TRANSFER",
            "to": frozen.wallet("agent")["address"],
            "humanAmount": "12.5",
            "network": "ethereum-sepolia",
            "token": {
                "assetId": "eip155:11155111/erc20:0x1c7d4b196cb0c7b01d743fbc6116a902379c7238"
            },
        },
    )
    tx_id = response.json()["id"]
    frozen.advance(2)
    detail = await status(api, tx_id)
    assert detail["status"] == "CONFIRMED" and detail["tier"] == "NOTIFY"
    assert detail["amount"] == "12500000"
    assets = (
        await api.get(
            "/v1/wallet/assets",
            params={"walletId": frozen.wallet("agent")["id"], "network": "ethereum-sepolia"},
        )
    ).json()
    assert assets["assets"][1]["balanceFormatted"] == "12.5"
    assert await balance(api, treasury) == 10 * ETH - FEE


async def test_recipient_outside_allow_list_is_cancelled(frozen: Sandbox) -> None:
    from runner.sandbox import load_fixture
    from runner.sandbox.fixture import PolicySpec

    fixture = load_fixture()
    guarded = fixture.wallets[1].model_copy(
        update={"policy": PolicySpec(allowed_recipients=[frozen.wallet("treasury")["address"]])}
    )
    custom = fixture.model_copy(
        update={"wallets": [fixture.wallets[0], guarded, *fixture.wallets[2:]]}
    )
    async with (
        Sandbox(port=0, fixture=custom, clock=frozen.clock) as sandbox,
        client_for(sandbox) as api,
    ):
        agent = sandbox.wallet("agent")["id"]
        outside = await send(api, agent, 1000)
        inside = await send(api, agent, 1000, to=sandbox.wallet("treasury")["address"])
        sandbox.advance(2)
        denied = await status(api, outside)
        assert denied["status"] == "CANCELLED"
        assert denied["error"] == f"Address {RECIPIENT} not in whitelist"
        assert (await status(api, inside))["status"] == "CONFIRMED"


async def test_stuck_recipient_stays_submitted_until_released(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    stuck = await api.put("/_sandbox/stuck", json={"address": RECIPIENT, "stuck": True})
    assert stuck.json()["stuckRecipients"] == [RECIPIENT.lower()]
    tx_id = await send(api, frozen.wallet("treasury")["id"], 1000)
    frozen.advance(86_400)
    assert (await status(api, tx_id))["status"] == "SUBMITTED"
    frozen.set_stuck(RECIPIENT, False)
    frozen.advance(1.5)
    assert (await status(api, tx_id))["status"] == "CONFIRMED"


async def test_queued_amounts_push_later_sends_up_a_tier(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    treasury = frozen.wallet("treasury")["id"]
    await send(api, treasury, 7 * ETH // 100)  # DELAY, reserves 0.07 ETH while queued
    frozen.advance(0.1)
    small = await send(api, treasury, ETH // 1000)  # alone INSTANT; with the reservation DELAY
    frozen.advance(0.1)
    assert (await status(api, small))["tier"] == "DELAY"
