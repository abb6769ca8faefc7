"""Token claims, renewal and the opt-in session keeper (clock and sleep injected)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from runner.client import (
    RenewedSession,
    SessionKeeper,
    SessionRenewalError,
    WAIaaSClient,
    decode_token_claims,
)
from tests.client.conftest import TOKEN, Recorder, daemon_error, make_token

MakeClient = Callable[..., WAIaaSClient]
SESSION = "01a2139f-b49f-7123-93fa-a1c52dc7928d"


def renewed(token: str, count: int = 1) -> httpx.Response:
    return httpx.Response(
        200, json={"id": SESSION, "token": token, "expiresAt": 2_000, "renewalCount": count}
    )


def test_claims_are_read_locally() -> None:
    claims = decode_token_claims(make_token(iat=1_000, exp=1_300))
    assert claims.session_id == SESSION
    assert claims.ttl == 300
    assert claims.renewal_opens_at() == 1_150
    unlimited = decode_token_claims(make_token(exp=None))
    assert unlimited.expires_at is None and unlimited.renewal_opens_at() is None


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("abc.def.ghi", "starts with"),
        ("wai_sess_secretpart", "not a JWT"),
        ("wai_sess_aaa.!!!!.ccc", "not base64url JSON"),
        ("wai_sess_aaa.eyJmb28iOiAxfQ.ccc", "no 'sub'"),
    ],
)
def test_bad_tokens_are_explained_without_quoting_them(token: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        decode_token_claims(token)
    assert token not in str(caught.value)
    assert "secretpart" not in str(caught.value)


async def test_renew_swaps_the_token(make_client: MakeClient, recorder: Recorder) -> None:
    new_token = make_token(iat=1_200, exp=1_500)
    async with make_client([renewed(new_token)]) as client:
        result = await client.renew_session()
        assert client.session_token == new_token
        assert result.renewal_count == 1
    request = recorder.requests[0]
    assert request.method == "PUT"
    assert request.url.path == f"/v1/sessions/{SESSION}/renew"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert new_token not in repr(result) and new_token not in str(result)


@pytest.mark.parametrize(
    ("status", "code", "retryable", "advice"),
    [
        (403, "RENEWAL_TOO_EARLY", True, "50%"),
        (403, "RENEWAL_LIMIT_REACHED", False, "new session token"),
        (403, "SESSION_ABSOLUTE_LIFETIME_EXCEEDED", False, "new session token"),
        (403, "SESSION_RENEWAL_MISMATCH", False, "newest token"),
        (401, "TOKEN_EXPIRED", False, "new session token"),
        (400, "RENEWAL_NOT_REQUIRED", False, "unlimited"),
        (401, "SESSION_REVOKED", False, "new session token"),
    ],
)
async def test_renewal_errors_are_actionable(
    make_client: MakeClient,
    recorder: Recorder,
    status: int,
    code: str,
    retryable: bool,
    advice: str,
) -> None:
    async with make_client([daemon_error(status, code, retryable)]) as client:
        with pytest.raises(SessionRenewalError) as caught:
            await client.renew_session()
        assert client.session_token == TOKEN  # unchanged
    assert caught.value.code == code
    assert caught.value.hint is not None and advice in caught.value.hint
    assert len(recorder.requests) == 1  # a renewal is never repeated blindly


async def test_lost_renewal_answer_is_not_retried(
    make_client: MakeClient, recorder: Recorder
) -> None:
    async with make_client([httpx.ReadTimeout("t"), renewed(make_token())]) as client:
        with pytest.raises(Exception, match="outcome is unknown"):
            await client.renew_session()
    assert len(recorder.requests) == 1


async def test_concurrent_renewals_are_serialised(make_client: MakeClient) -> None:
    in_flight = 0
    peak = 0
    tokens = iter([make_token(iat=1_200), make_token(iat=1_400)])

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return renewed(next(tokens))

    async with make_client(lambda r: httpx.Response(500)) as client:
        client._http = httpx.AsyncClient(transport=httpx.MockTransport(slow))
        await asyncio.gather(client.renew_session(), client.renew_session())
    assert peak == 1


class FakeTime:
    """A clock that moves only when the keeper sleeps."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_keeper_renews_inside_the_window_and_reports(make_client: MakeClient) -> None:
    time = FakeTime(now=1_000)
    second = make_token(iat=1_180, exp=1_480)
    script: list[httpx.Response | Exception] = [
        renewed(second),
        daemon_error(403, "RENEWAL_LIMIT_REACHED"),
    ]
    seen: list[RenewedSession] = []
    async with make_client(script) as client:
        keeper = SessionKeeper(client, on_renewed=seen.append, clock=time.clock, sleep=time.sleep)
        await keeper.run()
        assert client.session_token == second
    assert time.sleeps == [180.0, 180.0]  # 60 % of a 300 s TTL, twice
    assert [s.renewal_count for s in seen] == [1]
    assert keeper.error is not None and keeper.error.code == "RENEWAL_LIMIT_REACHED"
    window_start = decode_token_claims(TOKEN).renewal_opens_at()
    assert window_start is not None and window_start <= 1_180


async def test_keeper_waits_again_when_the_daemon_says_too_early(make_client: MakeClient) -> None:
    time = FakeTime(now=1_000)
    script: list[httpx.Response | Exception] = [
        daemon_error(403, "RENEWAL_TOO_EARLY", True),
        daemon_error(401, "SESSION_REVOKED"),
    ]
    async with make_client(script) as client:
        keeper = SessionKeeper(client, clock=time.clock, sleep=time.sleep, too_early_backoff=5)
        await keeper.run()
    assert time.sleeps == [180.0, 5, 0.0]
    assert keeper.error is not None and keeper.error.code == "SESSION_REVOKED"


async def test_keeper_does_nothing_for_unlimited_sessions(
    make_client: MakeClient, recorder: Recorder
) -> None:
    async with make_client([], token=make_token(exp=None)) as client:
        await SessionKeeper(client).run()
    assert recorder.requests == []


async def test_keeper_as_background_task_stops_cleanly(make_client: MakeClient) -> None:
    async with make_client([]) as client:
        async with SessionKeeper(client) as keeper:  # real clock: first renewal is far away
            await asyncio.sleep(0)
        assert keeper.error is None


def test_keeper_refuses_a_point_outside_the_window(make_client: MakeClient) -> None:
    client = make_client([])
    with pytest.raises(ValueError, match="window"):
        SessionKeeper(client, renew_at=0.4)
