"""With a state file, a restart keeps balances, sessions and transactions, and resumes them."""

from __future__ import annotations

from pathlib import Path

from runner.sandbox import Clock, Sandbox
from tests.sandbox.conftest import ETH, START, balance, client_for, send, status

FEE = 42_000_000_000_000


async def test_restart_mid_delay_resumes_the_transaction(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.sqlite3"
    clock = Clock(frozen=START)
    async with Sandbox(port=0, state=state, clock=clock) as first:
        token, session_id = first.token, first.session_id
        treasury = first.wallet("treasury")["id"]
        async with client_for(first) as api:
            confirmed = await send(api, treasury, ETH // 100)
            delayed = await send(api, treasury, 7 * ETH // 100)
            first.advance(2)
            assert (await status(api, delayed))["status"] == "QUEUED"
            assert (await status(api, confirmed))["status"] == "CONFIRMED"
        renew_id, renew_token = first.create_session(["agent"], ttl=300)

    clock.advance(60)  # the sandbox was down for a minute: the delay ran out meanwhile
    async with Sandbox(port=0, state=state, clock=clock) as second:
        assert (second.token, second.session_id) == (token, session_id)
        assert second.wallet("treasury")["id"] == treasury
        async with client_for(second) as api:
            detail = await status(api, delayed)
            assert detail["status"] == "CONFIRMED" and detail["tier"] == "DELAY"
            assert await balance(api, treasury) == 10 * ETH - 8 * ETH // 100 - 2 * FEE
            listed = await api.get("/v1/transactions", params={"walletId": treasury})
            assert [item["id"] for item in listed.json()["items"]] == [delayed, confirmed]
        second.advance(100)  # 162 s into a 300 s session: renewable, with the old token
        async with client_for(second, renew_token) as api:
            renewed = await api.put(f"/v1/sessions/{renew_id}/renew")
            assert renewed.status_code == 200 and renewed.json()["renewalCount"] == 1


async def test_restart_while_queued_continues_the_sequence(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.sqlite3"
    clock = Clock(frozen=START)
    async with Sandbox(port=0, state=state, clock=clock) as first, client_for(first) as api:
        tx_id = await send(api, first.wallet("treasury")["id"], 7 * ETH // 100)
        first.advance(1)
    async with Sandbox(port=0, state=state, clock=clock) as second, client_for(second) as api:
        assert (await status(api, tx_id))["status"] == "QUEUED"
        second.advance(4.15)  # delay of 5 s ends at +5.1
        assert (await status(api, tx_id))["status"] == "EXECUTING"
        second.advance(2)
        assert (await status(api, tx_id))["status"] == "CONFIRMED"
        new_id = await send(api, second.wallet("treasury")["id"], 1000)
        assert new_id > tx_id  # ids keep their order across restarts


async def test_without_state_every_start_is_fresh() -> None:
    async with Sandbox(port=0) as first:
        token = first.token
    async with Sandbox(port=0) as second:
        assert second.token != token
