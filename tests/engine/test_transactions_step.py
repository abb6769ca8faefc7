"""The ``transactions`` step: a wallet's recent transactions filtered by status and age."""

from __future__ import annotations

from runner.client import WAIaaSClient
from runner.sandbox import Sandbox
from tests.engine.conftest import Engine, outputs

STUCK = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


async def _send(sandbox: Sandbox, to: str) -> str:
    async with WAIaaSClient(sandbox.url, sandbox.token) as client:
        sent = await client.send_token(
            to, 10**15, network="ethereum-sepolia", wallet_id=sandbox.wallet("treasury")["id"]
        )
    return sent.id


async def test_filters_by_status_and_age(engine: Engine, sandbox: Sandbox) -> None:
    sandbox.set_stuck(STUCK)
    old_stuck = await _send(sandbox, STUCK)
    sandbox.advance(1)  # past signing: the daemon fails overlapping signings of a wallet
    await _send(sandbox, OTHER)  # confirms
    sandbox.advance(3600)
    await _send(sandbox, STUCK)  # stuck too, but only just
    sandbox.advance(60)
    result, _, _ = await engine.execute(
        """\
        steps:
          - id: stuck
            transactions: { wallet: treasury, status: [SUBMITTED], older_than: 30m }
          - id: everything
            transactions: { wallet: treasury, limit: 10 }
        """
    )
    stuck = outputs(result, "stuck")
    assert stuck["count"] == 1
    assert stuck["ids"] == [old_stuck]
    assert 3660 <= stuck["oldest_age"] < 3700  # the fixture's clock also follows wall time
    assert stuck["items"][0]["status"] == "SUBMITTED"
    everything = outputs(result, "everything")
    assert everything["count"] == 3
    assert sorted({item["status"] for item in everything["items"]}) == ["CONFIRMED", "SUBMITTED"]


async def test_nothing_matches_gives_zero(engine: Engine) -> None:
    result, _, _ = await engine.execute(
        """\
        steps:
          - id: stuck
            transactions: { wallet: agent, status: [SUBMITTED] }
          - assert: steps.stuck.count == 0 and steps.stuck.oldest_age == 0
        """
    )
    assert result.exit_code == 0
