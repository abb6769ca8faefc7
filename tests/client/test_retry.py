"""Retry timing and, above all, which failures may be retried for a send."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from runner.client import (
    AmbiguousSendError,
    RetryPolicy,
    TransportError,
    WAIaaSClient,
    WAIaaSError,
)
from tests.client import recorded
from tests.client.conftest import TX, Recorder, daemon_error

MakeClient = Callable[..., WAIaaSClient]
ACCEPTED = httpx.Response(201, json={"id": TX, "status": "PENDING"})
BALANCE = httpx.Response(200, json=recorded.BALANCE)
HTML_502 = httpx.Response(
    502, content=b"<html>Bad Gateway</html>", headers={"content-type": "text/html"}
)


def request_for(method: str, path: str) -> httpx.Request:
    return httpx.Request(method, "http://daemon.test" + path)


async def test_backoff_is_exponential_from_base_delay(
    make_client: MakeClient, recorder: Recorder
) -> None:
    script: list[httpx.Response | Exception] = [daemon_error(502, "CHAIN_ERROR", True)] * 3
    async with make_client([*script, BALANCE]) as client:
        balance = await client.get_balance("ethereum-sepolia")
    assert balance.raw == 99998962920267177000
    assert recorder.sleeps == [1.0, 2.0, 4.0]
    assert len(recorder.requests) == 4


async def test_backoff_is_capped_and_attempts_bounded(
    make_client: MakeClient, recorder: Recorder
) -> None:
    script: list[httpx.Response | Exception] = [daemon_error(503, "KEYSTORE_LOCKED", True)] * 6
    async with make_client(script, max_retries=5, base_delay=2.0, max_delay=5.0) as client:
        with pytest.raises(WAIaaSError) as caught:
            await client.get_balance("ethereum-sepolia")
    assert caught.value.code == "KEYSTORE_LOCKED"
    assert recorder.sleeps == [2.0, 4.0, 5.0, 5.0, 5.0]
    assert len(recorder.requests) == 6


async def test_retry_after_is_honoured(make_client: MakeClient, recorder: Recorder) -> None:
    limited = daemon_error(429, "RATE_LIMITED", True, headers={"Retry-After": "7"})
    list_body = httpx.Response(200, json={"items": [], "cursor": None, "hasMore": False})
    async with make_client([limited, list_body]) as client:
        await client.list_transactions()
    assert recorder.sleeps == [7.0]


async def test_retry_after_beyond_the_limit_is_not_waited_for(
    make_client: MakeClient, recorder: Recorder
) -> None:
    limited = daemon_error(429, "RATE_LIMITED", True, headers={"Retry-After": "600"})
    async with make_client([limited], max_retry_after=60.0) as client:
        with pytest.raises(WAIaaSError) as caught:
            await client.list_transactions()
    assert caught.value.retry_after == 600.0
    assert recorder.sleeps == []


async def test_retry_after_can_be_ignored(make_client: MakeClient, recorder: Recorder) -> None:
    limited = daemon_error(429, "RATE_LIMITED", True, headers={"Retry-After": "30"})
    async with make_client([limited, BALANCE], respect_retry_after=False) as client:
        await client.get_balance("ethereum-sepolia")
    assert recorder.sleeps == [1.0]


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (500, "INTERNAL_ERROR", False),
        (503, "SYSTEM_LOCKED", False),
        (400, "NETWORK_REQUIRED", False),
        (401, "TOKEN_EXPIRED", False),
        (403, "RENEWAL_TOO_EARLY", True),  # retryable, but 403 is not a retry status
    ],
)
async def test_non_retryable_answers_are_raised_at_once(
    make_client: MakeClient, recorder: Recorder, status: int, code: str, retryable: bool
) -> None:
    async with make_client([daemon_error(status, code, retryable)]) as client:
        with pytest.raises(WAIaaSError) as caught:
            await client.get_balance("ethereum-sepolia")
    assert caught.value.code == code and caught.value.status_code == status
    assert len(recorder.requests) == 1 and recorder.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset by peer"),
        httpx.ConnectError("connection refused"),
    ],
)
async def test_reads_retry_transport_failures(
    make_client: MakeClient, recorder: Recorder, failure: Exception
) -> None:
    async with make_client([failure, BALANCE]) as client:
        await client.get_balance("ethereum-sepolia")
    assert len(recorder.requests) == 2 and recorder.sleeps == [1.0]


async def test_reads_retry_a_proxy_502(make_client: MakeClient, recorder: Recorder) -> None:
    async with make_client([HTML_502, BALANCE]) as client:
        await client.get_balance("ethereum-sepolia")
    assert len(recorder.requests) == 2


async def test_reads_give_up_with_a_transport_error(make_client: MakeClient) -> None:
    failures: list[httpx.Response | Exception] = [httpx.ConnectError("refused")] * 4
    async with make_client(failures) as client:
        with pytest.raises(TransportError, match="could not reach the daemon"):
            await client.get_balance("ethereum-sepolia")


# -- sends: retried only when the first attempt provably created nothing --------------------


@pytest.mark.parametrize(
    "lost",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset by peer"),
        httpx.WriteTimeout("write timed out"),
    ],
)
async def test_send_with_lost_answer_is_attempted_exactly_once(
    make_client: MakeClient, recorder: Recorder, lost: Exception
) -> None:
    async with make_client([lost, ACCEPTED]) as client:
        with pytest.raises(AmbiguousSendError) as caught:
            await client.send_token("0x7099", 5, network="ethereum-sepolia")
    assert len(recorder.requests) == 1
    assert recorder.sleeps == []
    assert caught.value.request == {
        "type": "TRANSFER",
        "to": "0x7099",
        "amount": "5",
        "network": "ethereum-sepolia",
    }
    assert "may have created it" in str(caught.value)


@pytest.mark.parametrize("proxy", [HTML_502, httpx.Response(504), httpx.Response(503, text="busy")])
async def test_send_with_a_proxy_error_is_ambiguous(
    make_client: MakeClient, recorder: Recorder, proxy: httpx.Response
) -> None:
    async with make_client([proxy, ACCEPTED]) as client:
        with pytest.raises(AmbiguousSendError) as caught:
            await client.send_token("0x7099", 5)
    assert len(recorder.requests) == 1
    assert caught.value.status_code == proxy.status_code


async def test_send_accepted_but_unreadable_is_ambiguous(
    make_client: MakeClient, recorder: Recorder
) -> None:
    garbled = httpx.Response(201, content=b"<html>ok</html>")
    async with make_client([garbled]) as client:
        with pytest.raises(AmbiguousSendError):
            await client.send_token("0x7099", 5)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "never_reached",
    [httpx.ConnectError("connection refused"), httpx.ConnectTimeout("connect timed out")],
)
async def test_send_retries_when_the_daemon_was_never_reached(
    make_client: MakeClient, recorder: Recorder, never_reached: Exception
) -> None:
    async with make_client([never_reached, ACCEPTED]) as client:
        result = await client.send_token("0x7099", 5)
    assert result.id == TX
    assert len(recorder.requests) == 2 and recorder.sleeps == [1.0]


async def test_send_connection_refused_throughout_is_a_transport_error(
    make_client: MakeClient,
) -> None:
    async with make_client([httpx.ConnectError("refused")] * 4) as client:
        with pytest.raises(TransportError) as caught:
            await client.send_token("0x7099", 5)
    assert not isinstance(caught.value, AmbiguousSendError)


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "RATE_LIMITED"), (502, "CHAIN_ERROR"), (503, "ADAPTER_NOT_AVAILABLE")],
)
async def test_send_retries_daemon_refusals_marked_retryable(
    make_client: MakeClient, recorder: Recorder, status: int, code: str
) -> None:
    async with make_client([daemon_error(status, code, True), ACCEPTED]) as client:
        await client.send_token("0x7099", 5)
    assert len(recorder.requests) == 2
    bodies = {json.dumps(json.loads(r.content), sort_keys=True) for r in recorder.requests}
    assert len(bodies) == 1  # the retry sends exactly the same thing


async def test_send_daemon_refusal_not_retryable_is_raised(
    make_client: MakeClient, recorder: Recorder
) -> None:
    async with make_client([daemon_error(500, "INTERNAL_ERROR", False)]) as client:
        with pytest.raises(WAIaaSError) as caught:
            await client.send_token("0x7099", 5)
    assert not isinstance(caught.value, AmbiguousSendError)
    assert caught.value.daemon_body and len(recorder.requests) == 1


def test_policy_classification() -> None:
    policy = RetryPolicy()
    read_timeout = httpx.ReadTimeout("t")
    assert policy.should_retry(read_timeout, idempotent=True)
    assert not policy.should_retry(read_timeout, idempotent=False)
    assert policy.should_retry(httpx.ConnectError("r"), idempotent=False)
    assert policy.should_retry(httpx.PoolTimeout("p"), idempotent=False)
    assert not policy.should_retry(ValueError("x"), idempotent=True)
