"""The daemon's rate limits: 10/min on the transaction list, 300/min per session."""

from __future__ import annotations

import httpx

from runner.sandbox import Sandbox


async def test_transaction_list_allows_ten_a_minute(
    api: httpx.AsyncClient, frozen: Sandbox
) -> None:
    params = {"walletId": frozen.wallet("treasury")["id"], "limit": 1}
    codes = []
    for _ in range(12):
        codes.append((await api.get("/v1/transactions", params=params)).status_code)
        frozen.advance(1)
    assert codes == [200] * 10 + [429] * 2
    refused = await api.get("/v1/transactions", params=params)
    assert refused.headers["Retry-After"] == "48"  # the first call leaves the window at +60
    assert refused.json() == {
        "code": "RATE_LIMITED",
        "message": "Transaction rate limit exceeded",
        "retryable": True,
    }
    # other routes are not on that limiter
    assert (await api.get("/v1/transactions/pending", params=params)).status_code == 200
    frozen.advance(48)
    assert (await api.get("/v1/transactions", params=params)).status_code == 200


async def test_session_limit_of_three_hundred(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    params = {"walletId": frozen.wallet("treasury")["id"]}
    codes = [(await api.get("/v1/wallet/address", params=params)).status_code for _ in range(301)]
    assert codes.count(200) == 300 and codes[-1] == 429
    assert (await api.get("/v1/wallet/address", params=params)).json()["message"] == (
        "Session rate limit exceeded"
    )
    _, other = frozen.create_session(["agent"])  # the limit is per session
    answer = await api.get("/v1/wallet/address", headers={"Authorization": f"Bearer {other}"})
    assert answer.status_code == 200
    assert (await api.get("/health")).status_code == 200  # not a session route


async def test_limits_can_be_switched_off(api: httpx.AsyncClient, frozen: Sandbox) -> None:
    switched = await api.put("/_sandbox/rate-limits", json={"enabled": False})
    assert switched.json() == {"enabled": False}
    params = {"walletId": frozen.wallet("treasury")["id"]}
    codes = {(await api.get("/v1/transactions", params=params)).status_code for _ in range(15)}
    assert codes == {200}


async def test_limits_off_from_the_start() -> None:
    async with Sandbox(port=0, rate_limits=False) as sandbox:
        assert sandbox.core.limiter.enabled is False
