"""Pacing below the daemon's limits, the cached wallet list, sends refused while draining,
and the watchdog's clock-jump check."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from runner.client import RetryPolicy, TransportError, WAIaaSClient
from runner.serve.budget import CURRENT_RUN, Budget, DaemonLimits, PacedTransport, RunMeter
from runner.serve.sessions import Session

TOKEN = "wai_sess_eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZXNzLTEiLCJpYXQiOjF9.c2ln"  # sub: sess-1


async def test_a_burst_goes_out_at_once_and_the_window_is_never_overrun() -> None:
    now = [1000.0]
    budget = Budget(DaemonLimits(ip_per_minute=100, session_per_minute=1000), lambda: now[0])
    waited = [await budget.spend("s1", False) for _ in range(95)]
    assert waited == [0.0] * 95  # 95 % of 100 at once: a minute's burst is allowed
    blocked = asyncio.ensure_future(budget.spend("s1", False))
    await asyncio.sleep(0.05)
    assert not blocked.done()  # the 96th waits for the oldest to leave the window
    blocked.cancel()


async def test_the_transaction_list_has_its_own_small_window() -> None:
    budget = Budget(DaemonLimits())
    for _ in range(9):  # 95 % of 10
        assert await budget.spend("s1", True) == 0.0
    waiting = asyncio.ensure_future(budget.spend("s1", True))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    # other requests of the session, and other sessions, are not held up behind it
    assert await budget.spend("s1", False) == 0.0
    assert await budget.spend("s2", True) == 0.0
    waiting.cancel()


class Daemon:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.wallet_gone = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v1/connect-info":
            return httpx.Response(200, json={"session": {"id": "sess-1"}, "wallets": []})
        if self.wallet_gone:
            body = {"code": "WALLET_NOT_FOUND", "message": "gone", "retryable": False}
            return httpx.Response(404, json=body)
        if request.url.path == "/v1/transactions":
            return httpx.Response(429, json={"code": "RATE_LIMITED", "message": "x"})
        return httpx.Response(200, json={"ok": True})


def _http(budget: Budget, daemon: Daemon) -> tuple[httpx.AsyncClient, PacedTransport]:
    transport = PacedTransport(budget, httpx.MockTransport(daemon))
    return httpx.AsyncClient(transport=transport, base_url="http://daemon"), transport


async def test_requests_over_the_budget_wait_instead_of_failing() -> None:
    budget = Budget(DaemonLimits(ip_per_minute=20))
    daemon = Daemon()
    http, _ = _http(budget, daemon)
    async with http:
        for _ in range(19):
            response = await http.get("/v1/wallet/balance", headers={"Authorization": TOKEN})
            assert response.status_code == 200
        late = asyncio.ensure_future(http.get("/v1/wallet/balance"))
        await asyncio.sleep(0.05)
        assert not late.done()  # waiting for the window, not refused
        late.cancel()
    assert budget.counters.requests == 19 and daemon.seen.count("GET /v1/wallet/balance") == 19


async def test_wallet_names_are_resolved_once_and_again_after_a_404() -> None:
    budget = Budget(DaemonLimits())
    daemon = Daemon()
    http, _ = _http(budget, daemon)
    async with http:
        for _ in range(3):
            assert (await http.get("/v1/connect-info")).json()["session"]["id"] == "sess-1"
        daemon.wallet_gone = True
        assert (await http.get("/v1/wallet/balance")).status_code == 404
        daemon.wallet_gone = False
        await http.get("/v1/connect-info")
    assert daemon.seen.count("GET /v1/connect-info") == 2
    assert budget.counters.connect_info_cached == 2


async def test_a_429_is_counted_and_playbook_requests_are_measured() -> None:
    budget = Budget(DaemonLimits())
    http, _ = _http(budget, Daemon())
    meter = RunMeter()
    token = CURRENT_RUN.set(meter)
    try:
        async with http:
            assert (await http.get("/v1/transactions")).status_code == 429
            await http.get("/v1/wallet/balance")
    finally:
        CURRENT_RUN.reset(token)
    assert budget.counters.rate_limited == 1
    assert meter.requests == 2 and meter.first_wait == 0.0


async def test_a_draining_serve_refuses_new_sends_without_posting_them() -> None:
    budget = Budget(DaemonLimits())
    daemon = Daemon()
    http, _ = _http(budget, daemon)
    budget.draining = True
    async with WAIaaSClient("http://daemon", TOKEN, http_client=http) as client:
        with pytest.raises(Exception) as refused:
            await client.send_token("0x" + "1" * 40, 1, network="ethereum-sepolia")
        await client.get_connect_info()  # reads go on
    assert "SHUTTING_DOWN" in str(refused.value) and "not posted" in str(refused.value)
    assert daemon.seen == ["GET /v1/connect-info"]
    assert budget.counters.refused_sends == 1


class _SlowBudget(Budget):
    """Every request waits ``seconds`` for its turn (a full window)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(DaemonLimits())
        self.seconds = seconds

    async def spend(self, session: str | None, tx_list: bool) -> float:
        await asyncio.sleep(self.seconds)
        return await super().spend(session, tx_list)


async def test_waiting_for_the_budget_does_not_count_against_the_call_deadline() -> None:
    budget = _SlowBudget(0.3)
    http, _ = _http(budget, Daemon())
    async with WAIaaSClient("http://daemon", TOKEN, timeout=0.1, http_client=http) as client:
        info = await client.get_connect_info()  # waited 0.3 s for its turn, then answered
    assert info.session.id == "sess-1"


async def test_the_call_deadline_still_bounds_the_daemon_answering() -> None:
    async def slow_daemon(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.3)
        return httpx.Response(200, json={"session": {"id": "sess-1"}, "wallets": []})

    transport = PacedTransport(_SlowBudget(0.3), httpx.MockTransport(slow_daemon))
    http = httpx.AsyncClient(transport=transport, base_url="http://daemon")
    policy = RetryPolicy(max_retries=0)
    async with WAIaaSClient(
        "http://daemon", TOKEN, timeout=0.1, http_client=http, retry_policy=policy
    ) as client:
        with pytest.raises(TransportError):
            await client.get_connect_info()


async def test_a_session_parses_its_wallet_list_once_and_again_after_a_404() -> None:
    daemon = Daemon()
    session = Session(
        "http://daemon", "wai_sess_x", None, Budget(DaemonLimits()),
        transport=httpx.MockTransport(daemon),
    )  # fmt: skip
    try:
        first = await session.connect_info()
        assert await session.connect_info() is first  # no request, nothing parsed again
        assert daemon.seen == ["GET /v1/connect-info"]
        daemon.wallet_gone = True
        assert (await session.http.get("http://daemon/v1/wallet/balance")).status_code == 404
        daemon.wallet_gone = False
        again = await session.connect_info()
        assert again is not first and again.session.id == "sess-1"
        assert daemon.seen.count("GET /v1/connect-info") == 2
        session.transport.forget_wallets()  # a reload
        assert await session.connect_info() is not again
        assert daemon.seen.count("GET /v1/connect-info") == 3
    finally:
        await session.close()
