"""The sandbox in your own pytest suite: a stand-in WAIaaS daemon per test, over real HTTP.

Copy this file into your tests (it needs only pytest and waiaas-runner) and run:

    pytest examples/pytest-sandbox/

Three ways to use it: your own code against `Sandbox` (any HTTP client works), the
runner's client, and your playbooks' scenario files run from pytest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runner.client import WAIaaSClient
from runner.sandbox import Clock, Sandbox
from runner.scenario import load_scenario, run_scenario

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_my_code_reads_a_balance(loop: asyncio.AbstractEventLoop) -> None:
    async def scenario() -> None:
        # a frozen clock: time moves only when the test says so
        async with Sandbox(port=0, clock=Clock(frozen=1_800_000_000)) as sandbox:
            treasury = sandbox.wallet("treasury")
            async with httpx.AsyncClient(base_url=sandbox.url) as http:
                answer = await http.get(
                    "/v1/wallet/balance",
                    params={"walletId": treasury["id"], "network": "ethereum-sepolia"},
                    headers={"Authorization": f"Bearer {sandbox.token}"},
                )
            assert answer.status_code == 200
            assert answer.json()["balance"] == "10000000000000000000"  # 10 ETH in wei

    loop.run_until_complete(scenario())


def test_a_delay_tier_send_confirms_when_the_clock_moves(loop: asyncio.AbstractEventLoop) -> None:
    async def scenario() -> None:
        async with (
            Sandbox(port=0, clock=Clock(frozen=1_800_000_000)) as sandbox,
            WAIaaSClient(sandbox.url, sandbox.token) as client,
        ):
            sent = await client.send_token(
                sandbox.wallet("agent")["address"],
                8 * 10**16,  # 0.08 ETH: the default fixture's DELAY tier (5 s)
                network="ethereum-sepolia",
                wallet_id=sandbox.wallet("treasury")["id"],
            )
            sandbox.advance(1)
            assert (await client.get_transaction(sent.id)).status == "QUEUED"
            sandbox.advance(10)  # no sleeping: the DELAY is over
            assert (await client.get_transaction(sent.id)).status == "CONFIRMED"

    loop.run_until_complete(scenario())


@pytest.mark.parametrize("scenario_file", sorted(PLAYBOOKS.glob("*.test.yaml")), ids=str)
def test_playbook_scenarios(loop: asyncio.AbstractEventLoop, scenario_file: Path) -> None:
    results = loop.run_until_complete(run_scenario(load_scenario(scenario_file)))
    failed = {r.name: r.verdict.lines for r in results if not r.passed}
    assert not failed, failed
