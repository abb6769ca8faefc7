"""The daemon's signing race, as recorded on v2.15.0 (waiaas-recorded.md, "Rate limits /
idempotency / concurrency" and Part C): sends of one wallet whose signings overlap end
FAILED with "ENOENT: ... rename '.../keystore/.<id>.json.tmp' -> ..." or "NONCE_TOO_LOW
(stale retry exhausted)"; sends each awaited past signing all CONFIRM. On by default."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from runner.sandbox import Sandbox, load_fixture
from tests.sandbox.conftest import ETH, client_for, send, status
from tests.sandbox.test_cli import running

SMALL = 22222  # wei, as in the recorded parallel sends (INSTANT)
NONCE = "NONCE_TOO_LOW (stale retry exhausted)"
# A token send is NOTIFY whatever the queued native sends hold, so it signs right away
# beside a queued one (a native send would be pushed into the queued one's tier).
USDC = {"assetId": "eip155:11155111/erc20:0x1c7d4b196cb0c7b01d743fbc6116a902379c7238"}


async def send_usdc(api: httpx.AsyncClient, wallet_id: str) -> str:
    return await send(api, wallet_id, 1_000_000, type="TOKEN_TRANSFER", token=USDC)


def keystore_error(wallet_id: str) -> re.Pattern[str]:
    """The recorded ENOENT text, with the daemon's data folder left open."""
    return re.compile(
        r"ENOENT: no such file or directory, rename "
        rf"'.+/keystore/\.{wallet_id}\.json\.tmp' -> '.+/keystore/{wallet_id}\.json'"
    )


async def finals(api: httpx.AsyncClient, sandbox: Sandbox, ids: list[str]) -> list[dict[str, str]]:
    sandbox.advance(10)
    return [await status(api, tx_id) for tx_id in ids]


async def test_parallel_sends_of_one_wallet_fail_with_the_recorded_errors(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    wallet = frozen.wallet("treasury")["id"]
    ids = await asyncio.gather(*(send(api, wallet, SMALL) for _ in range(6)))
    ends = await finals(api, frozen, sorted(ids))  # ids sort in the order they were taken
    assert ends[0]["status"] == "CONFIRMED" and ends[0]["error"] is None
    failed = ends[1:]
    assert [tx["status"] for tx in failed] == ["FAILED"] * 5
    assert keystore_error(wallet).fullmatch(failed[0]["error"])  # one signing overlapped
    assert {tx["error"] for tx in failed[1:]} == {NONCE}  # two or more overlapped
    assert all(tx["txHash"] is None for tx in failed)  # never broadcast


async def test_back_to_back_sends_without_waiting_fail(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    """Each posted right after the previous one's 201 (a few ms of sandbox time later)."""
    wallet = frozen.wallet("treasury")["id"]
    ids = []
    for _ in range(3):
        ids.append(await send(api, wallet, SMALL))
        frozen.advance(0.005)
    ends = await finals(api, frozen, ids)
    assert [tx["status"] for tx in ends] == ["CONFIRMED", "FAILED", "FAILED"]
    assert keystore_error(wallet).fullmatch(ends[1]["error"])
    assert ends[2]["error"] == NONCE


async def test_sends_each_awaited_past_signing_all_confirm(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    wallet = frozen.wallet("treasury")["id"]
    ids = []
    for _ in range(12):
        tx_id = await send(api, wallet, SMALL)
        polls = 0
        while (await status(api, tx_id))["status"] == "PENDING":
            frozen.advance(0.05)
            polls += 1
        assert (await status(api, tx_id))["status"] == "SUBMITTED"
        assert polls == 2  # the default pipeline: 0.1 s of signing
        ids.append(tx_id)
    assert {tx["status"] for tx in await finals(api, frozen, ids)} == {"CONFIRMED"}


async def test_other_wallets_and_finished_signings_do_not_collide(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    treasury, agent = frozen.wallet("treasury")["id"], frozen.wallet("agent")["id"]
    first = await send(api, treasury, SMALL)
    other_wallet = await send(api, agent, SMALL)
    frozen.advance(0.1)  # the first one's signing ends exactly now: no overlap
    after = await send(api, treasury, SMALL)
    ends = await finals(api, frozen, [first, other_wallet, after])
    assert [tx["status"] for tx in ends] == ["CONFIRMED"] * 3


async def test_sends_that_never_sign_do_not_collide(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    """A send queued for its tier, or one that fails to build, holds no signing."""
    wallet = frozen.wallet("treasury")["id"]
    delayed = await send(api, wallet, 7 * ETH // 100)  # DELAY: QUEUED, signs when released
    broken = await send(
        api, wallet, 1_000_000, to="0xnotanaddress", type="TOKEN_TRANSFER", token=USDC
    )
    instant = await send_usdc(api, wallet)
    ends = await finals(api, frozen, [delayed, broken, instant])
    assert [tx["status"] for tx in ends] == ["CONFIRMED", "FAILED", "CONFIRMED"]
    assert ends[1]["error"].startswith("Failed to build transaction")


async def test_a_released_delay_send_signs_and_collides_both_ways(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    """EXECUTING is signing too: a send posted while a released DELAY send signs fails,
    and a DELAY send released while another send signs fails."""
    wallet = frozen.wallet("treasury")["id"]
    delayed = await send(api, wallet, 7 * ETH // 100)
    frozen.advance(0.1 + 5)  # QUEUED for the fixture's 5 s, now EXECUTING for 0.2 s
    assert (await status(api, delayed))["status"] == "EXECUTING"
    during = await send(api, wallet, SMALL)
    ends = await finals(api, frozen, [delayed, during])
    assert [tx["status"] for tx in ends] == ["CONFIRMED", "FAILED"]
    assert keystore_error(wallet).fullmatch(ends[1]["error"])

    delayed = await send(api, wallet, 7 * ETH // 100)
    frozen.advance(0.1 + 5 - 0.05)  # released in 0.05 s
    signing = await send_usdc(api, wallet)  # signs until 0.05 s after the release
    ends = await finals(api, frozen, [delayed, signing])
    assert [tx["status"] for tx in ends] == ["FAILED", "CONFIRMED"]
    assert keystore_error(wallet).fullmatch(ends[0]["error"])


async def test_an_approved_send_signs_like_a_released_one(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    wallet = frozen.wallet("treasury")["id"]
    held = await send(api, wallet, ETH // 2)  # APPROVAL: the default treasury has an owner
    frozen.advance(1)
    signing = await send_usdc(api, wallet)
    frozen.approve(held)  # while the other one signs
    ends = await finals(api, frozen, [held, signing])
    assert [tx["status"] for tx in ends] == ["FAILED", "CONFIRMED"]


@pytest.mark.parametrize("how", ["fixture", "argument", "control", "in-process"])
async def test_the_race_can_be_switched_off(how: str, frozen: Sandbox) -> None:
    fixture = load_fixture()
    if how == "fixture":
        fixture = fixture.model_copy(update={"signing_race": False})
    race = False if how == "argument" else None
    async with (
        Sandbox(port=0, fixture=fixture, clock=frozen.clock, signing_race=race) as sandbox,
        client_for(sandbox) as api,
    ):
        if how == "control":
            answer = await api.put("/_sandbox/signing", json={"race": False})
            assert answer.status_code == 200, answer.text
            assert answer.json() == {
                "race": False,
                "pipelineSeconds": 0.1,
                "executeSeconds": 0.2,
            }
        elif how == "in-process":
            sandbox.set_signing(race=False)
        info = (await api.get("/_sandbox/info")).json()
        assert info["signing"]["race"] is False
        wallet = sandbox.wallet("treasury")["id"]
        ids = await asyncio.gather(*(send(api, wallet, SMALL) for _ in range(6)))
        ends = await finals(api, sandbox, ids)
        assert {tx["status"] for tx in ends} == {"CONFIRMED"}


async def test_the_signing_window_is_set_by_the_control_endpoint(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    assert (await api.get("/_sandbox/info")).json()["signing"]["race"] is True  # default
    answer = await api.put("/_sandbox/signing", json={"pipelineSeconds": 2})
    assert answer.json()["pipelineSeconds"] == 2
    wallet = frozen.wallet("treasury")["id"]
    first = await send(api, wallet, SMALL)
    frozen.advance(1.5)  # still signing: 2 s now
    assert (await status(api, first))["status"] == "PENDING"
    second = await send(api, wallet, SMALL)
    ends = await finals(api, frozen, [first, second])
    assert [tx["status"] for tx in ends] == ["CONFIRMED", "FAILED"]
    for bad in ({}, {"race": "no"}, {"pipelineSeconds": -1}, {"speed": 1}, {"race": 1}):
        refused = await api.put("/_sandbox/signing", json=bad)
        assert refused.status_code == 400, bad
        assert "error" in refused.json()


def test_the_cli_switches_the_race_and_sets_the_window() -> None:
    with running("--no-signing-race", "--pipeline-seconds", "0.5") as (_, ready):
        info = httpx.get(f"{ready['url']}/_sandbox/info", timeout=5).json()
    assert info["signing"] == {"race": False, "pipelineSeconds": 0.5, "executeSeconds": 0.2}


async def test_delay_sends_released_together_execute_one_at_a_time(frozen: Sandbox) -> None:
    """The daemon's delay worker releases a wallet's expired sends one after the other."""
    fixture = load_fixture()
    treasury = fixture.wallets[0]
    assert treasury.policy is not None
    wide = treasury.policy.model_copy(update={"delay_max": 10 * ETH})  # all three DELAY
    wallets = [treasury.model_copy(update={"policy": wide}), *fixture.wallets[1:]]
    async with (
        Sandbox(
            port=0, fixture=fixture.model_copy(update={"wallets": wallets}), clock=frozen.clock
        ) as sandbox,
        client_for(sandbox) as api,
    ):
        wallet = sandbox.wallet("treasury")["id"]
        ids = [await send(api, wallet, 7 * ETH // 100) for _ in range(3)]  # one instant apart
        sandbox.advance(0.1 + 5)
        seen = [(await status(api, i))["status"] for i in ids]
        assert seen == ["EXECUTING", "QUEUED", "QUEUED"]
        sandbox.advance(0.2)
        seen = [(await status(api, i))["status"] for i in ids]
        assert seen == ["SUBMITTED", "EXECUTING", "QUEUED"]
        ends = await finals(api, sandbox, ids)
        assert [tx["status"] for tx in ends] == ["CONFIRMED"] * 3


async def _eth(api: httpx.AsyncClient, sandbox: Sandbox, wallet: str) -> tuple[int, int]:
    """The wallet's ETH as the store holds it and as GET /v1/wallet/balance answers."""
    wallet_id = sandbox.wallet(wallet)["id"]
    answer = await api.get(
        "/v1/wallet/balance", params={"walletId": wallet_id, "network": "ethereum-sepolia"}
    )
    assert answer.status_code == 200, answer.text
    stored = sandbox.core.store.balance(wallet_id, "ethereum-sepolia", "native")
    return stored, int(answer.json()["balance"])


async def test_a_send_failed_by_the_race_moves_no_money(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    """FAILED before broadcast: no amount, no fee, nothing credited, nothing held."""
    fee = load_fixture().fee("ethereum-sepolia")
    treasury = frozen.wallet("treasury")
    before, _ = await _eth(api, frozen, "treasury")
    agent_before, _ = await _eth(api, frozen, "agent")
    to = frozen.wallet("agent")["address"]
    ids = await asyncio.gather(*(send(api, treasury["id"], SMALL, to=to) for _ in range(6)))
    ends = await finals(api, frozen, sorted(ids))
    assert [tx["status"] for tx in ends].count("CONFIRMED") == 1
    assert await _eth(api, frozen, "treasury") == (before - SMALL - fee,) * 2
    assert await _eth(api, frozen, "agent") == (agent_before + SMALL,) * 2


async def test_a_released_send_failed_by_the_race_holds_no_reservation(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    """The DELAY send's 0.07 ETH is held while QUEUED (a later native send's tier adds
    it); once its signing collided and it ended FAILED, nothing of it is held or spent."""
    wallet = frozen.wallet("treasury")["id"]
    before, _ = await _eth(api, frozen, "treasury")
    delayed = await send(api, wallet, 7 * ETH // 100)
    frozen.advance(0.1 + 5 - 0.05)  # released in 0.05 s, while the next one signs
    signing = await send_usdc(api, wallet)
    ends = await finals(api, frozen, [delayed, signing])
    assert [tx["status"] for tx in ends] == ["FAILED", "CONFIRMED"]
    fee = load_fixture().fee("ethereum-sepolia")
    assert await _eth(api, frozen, "treasury") == (before - fee,) * 2  # the USDC send's fee
    notify = await send(api, wallet, 4 * ETH // 100)  # 0.04 ETH alone: NOTIFY
    frozen.advance(0.1)
    assert (await status(api, notify))["tier"] == "NOTIFY"
