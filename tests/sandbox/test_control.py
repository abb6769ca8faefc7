"""The sandbox-only control endpoints under /_sandbox/, and the shared `sandbox` fixture."""

from __future__ import annotations

import httpx

from runner.sandbox import Sandbox
from tests.sandbox.conftest import ETH, START, client_for, send, status


async def test_info_and_counts(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    treasury = frozen.wallet("treasury")["id"]
    await send(api, treasury, 1000)
    await send(api, treasury, 7 * ETH // 100)
    frozen.advance(2)
    info = (await api.get("/_sandbox/info")).json()
    assert info["sandbox"] is True and info["sessionId"] == frozen.session_id
    assert info["transactions"] == {"CONFIRMED": 1, "QUEUED": 1}
    assert info["clockControllable"] is True and info["rateLimits"] is True
    assert "token" not in info  # the token is only on the ready line
    count = (await api.get("/_sandbox/transactions/count", params={"walletId": treasury})).json()
    assert count == {"total": 2, "byStatus": {"CONFIRMED": 1, "QUEUED": 1}}


async def test_clock_advance_over_http(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    tx_id = await send(api, frozen.wallet("treasury")["id"], 7 * ETH // 100)
    moved = await api.post("/_sandbox/clock/advance", json={"seconds": 10})
    assert moved.json() == {"now": START + 10}
    assert (await status(api, tx_id))["status"] == "CONFIRMED"
    backwards = await api.post("/_sandbox/clock/advance", json={"seconds": -1})
    assert backwards.status_code == 400


async def test_wall_clock_that_cannot_move() -> None:
    async with Sandbox(port=0, clock=lambda: START) as sandbox, client_for(sandbox) as api:
        refused = await api.post("/_sandbox/clock/advance", json={"seconds": 1})
        assert refused.status_code == 409


async def test_sessions_over_http(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    created = (await api.post("/_sandbox/sessions", json={"wallets": ["agent"]})).json()
    assert created["expiresAt"] == 0
    async with client_for(frozen, created["token"]) as agent:
        assert (await agent.get("/v1/wallet/address")).status_code == 200
        revoked = await api.delete(f"/_sandbox/sessions/{created['id']}")
        assert revoked.json() == {"id": created["id"], "status": "REVOKED"}
        assert (await agent.get("/v1/wallet/address")).json()["code"] == "SESSION_REVOKED"
    unknown = await api.post("/_sandbox/sessions", json={"wallets": ["nobody"]})
    assert unknown.status_code == 404
    too_short = await api.post("/_sandbox/sessions", json={"ttl": 10})
    assert too_short.status_code == 400  # the daemon's range is 300..31536000


async def test_control_errors(api: httpx.AsyncClient) -> None:
    missing = await api.post("/_sandbox/transactions/01a213b4-0000-7000-8000-000000000000/approve")
    assert missing.status_code == 404 and "no transaction" in missing.json()["error"]
    assert (await api.put("/_sandbox/rate-limits", json={"enabled": "yes"})).status_code == 400
    assert (await api.put("/_sandbox/stuck", content=b"[1]")).status_code == 400
    assert (await api.delete("/_sandbox/faults/99")).status_code == 404


async def test_the_shared_fixture_runs_on_wall_time(sandbox: Sandbox) -> None:
    async with client_for(sandbox) as api:
        tx_id = await send(api, sandbox.wallet("treasury")["id"], 1000)
        sandbox.advance(2)  # no real waiting: the wall clock is pushed forward
        assert (await status(api, tx_id))["status"] == "CONFIRMED"
        assert (await api.get("/health")).headers["X-WAIaaS-Sandbox"] == "1"
