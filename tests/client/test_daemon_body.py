"""Only the daemon's own error body proves a send was not inserted; lookalikes do not.

A gateway in front of the daemon may forward a send (the daemon creates it) and then
answer with JSON of its own. Taking that for the daemon's refusal would post the send
again, so recognition is strict: the exact field set, a code the daemon defines, and
the status and ``retryable`` flag the daemon fixes for that code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from runner.client import AmbiguousSendError, WAIaaSClient, WAIaaSError
from runner.client.codes import ERROR_CODES
from runner.client.errors import is_daemon_error_body
from tests.client.conftest import Recorder
from tests.client.recorded_errors import RECORDED_ERRORS


@pytest.mark.parametrize(
    ("status", "body"),
    [(status, body) for _, status, body in RECORDED_ERRORS],
    ids=[where for where, _, _ in RECORDED_ERRORS],
)
def test_every_recorded_daemon_error_is_recognised(status: int, body: dict[str, Any]) -> None:
    error = WAIaaSError.from_response(httpx.Response(status, json=body))
    assert error.daemon_body
    assert error.code == body["code"] and error.retryable is body["retryable"]


def _daemon(code: str, **changes: Any) -> dict[str, Any]:
    known = ERROR_CODES[code]
    body: dict[str, Any] = {
        "code": code,
        "message": f"{code} happened",
        "requestId": "01a2139f-e7b6-7512-af28-641c40e481ab",
        "retryable": known.retryable,
    }
    for name, value in changes.items():
        if value is _DROP:
            body.pop(name)
        else:
            body[name] = value
    return body


_DROP = object()

# (why it is not the daemon's, status, body)
LOOKALIKES: list[tuple[str, int, Any]] = [
    ("gateway code", 502, {"code": "BAD_GATEWAY", "message": "upstream connection reset"}),
    (
        "gateway code with the daemon's fields",
        502,
        {"code": "BAD_GATEWAY", "message": "reset", "requestId": "r-1", "retryable": True},
    ),
    ("gateway 503", 503, {"code": "SERVICE_UNAVAILABLE", "message": "no healthy upstream"}),
    ("gateway 504", 504, {"code": "GATEWAY_TIMEOUT", "message": "upstream timed out"}),
    ("numeric code", 503, {"code": 503, "message": "Service Unavailable"}),
    ("error key", 504, {"error": "gateway timeout"}),
    ("nested error", 502, {"error": {"code": "CHAIN_ERROR", "message": "x"}}),
    ("known code, wrong status", 502, _daemon("INTERNAL_ERROR")),
    ("known code, wrong status 503", 503, _daemon("CHAIN_ERROR")),
    ("retryable flag disagrees", 502, _daemon("CHAIN_ERROR", retryable=False)),
    ("retryable as text", 500, _daemon("INTERNAL_ERROR", retryable="false")),
    ("retryable missing", 500, _daemon("INTERNAL_ERROR", retryable=_DROP)),
    ("message missing", 500, _daemon("INTERNAL_ERROR", message=_DROP)),
    ("message not text", 500, _daemon("INTERNAL_ERROR", message={"text": "x"})),
    ("request id missing", 500, _daemon("INTERNAL_ERROR", requestId=_DROP)),
    ("request id empty", 500, _daemon("INTERNAL_ERROR", requestId="")),
    ("request id not text", 500, _daemon("INTERNAL_ERROR", requestId=7)),
    ("a field the daemon never sends", 500, _daemon("INTERNAL_ERROR", status=500)),
    ("details not an object", 400, _daemon("ACTION_VALIDATION_FAILED", details=["x"])),
    ("hint not text", 401, _daemon("TOKEN_EXPIRED", hint=1)),
    (
        "limiter shape with another code",
        503,
        {"code": "ADAPTER_NOT_AVAILABLE", "message": "x", "retryable": True},
    ),
    (
        "limiter shape with an extra field",
        429,
        {"code": "RATE_LIMITED", "message": "slow down", "retryable": True, "upstream": "x"},
    ),
    ("limiter shape, not retryable", 429, {"code": "RATE_LIMITED", "message": "x", "retryable": 0}),
    ("a JSON list", 502, [{"code": "CHAIN_ERROR"}]),
    ("a JSON string", 502, "Bad Gateway"),
]


@pytest.mark.parametrize(
    ("status", "body"),
    [(status, body) for _, status, body in LOOKALIKES],
    ids=[why for why, _, _ in LOOKALIKES],
)
def test_lookalikes_are_not_the_daemon(status: int, body: Any) -> None:
    error = WAIaaSError.from_response(httpx.Response(status, json=body))
    assert not error.daemon_body and not error.retryable
    assert error.code == f"HTTP_{status}"
    assert "not the daemon's JSON error body" in error.message


def test_a_gateway_json_error_is_quoted_in_the_message() -> None:
    response = httpx.Response(
        502, json={"code": "BAD_GATEWAY", "message": "upstream connection reset"}
    )
    assert "BAD_GATEWAY: upstream connection reset" in WAIaaSError.from_response(response).message


def test_the_table_holds_every_code_the_daemon_defines() -> None:
    assert len(ERROR_CODES) == 147
    assert ERROR_CODES["RATE_LIMITED"].status == 429 and ERROR_CODES["RATE_LIMITED"].retryable
    assert not ERROR_CODES["SYSTEM_LOCKED"].retryable
    # every defined code, answered with its own status and flag, is recognised
    for code, known in ERROR_CODES.items():
        assert is_daemon_error_body(_daemon(code), known.status), code


Build = Callable[..., WAIaaSClient]


@pytest.mark.parametrize(
    ("status", "body"),
    [(status, body) for _, status, body in LOOKALIKES],
    ids=[why for why, _, _ in LOOKALIKES],
)
async def test_a_send_answered_by_a_lookalike_is_ambiguous(
    make_client: Build, recorder: Recorder, status: int, body: Any
) -> None:
    client = make_client([httpx.Response(status, json=body)])
    with pytest.raises(AmbiguousSendError):
        await client.send_token("0x7099", 1000, network="ethereum-sepolia")
    assert len(recorder.requests) == 1  # never posted twice


@pytest.mark.parametrize(
    ("status", "body"),
    [(status, body) for _, status, body in RECORDED_ERRORS if not body["retryable"]],
)
async def test_a_send_refused_by_the_daemon_is_not_ambiguous(
    make_client: Build, recorder: Recorder, status: int, body: dict[str, Any]
) -> None:
    client = make_client([httpx.Response(status, json=body)])
    with pytest.raises(WAIaaSError) as caught:
        await client.send_token("0x7099", 1000, network="ethereum-sepolia")
    assert not isinstance(caught.value, AmbiguousSendError) and caught.value.daemon_body
    assert len(recorder.requests) == 1


async def test_a_send_rate_limited_by_the_daemon_is_retried(
    make_client: Build, recorder: Recorder
) -> None:
    [limited] = [body for _, status, body in RECORDED_ERRORS if status == 429]
    ok = httpx.Response(
        201, json={"id": "01a2139f-e353-7484-b362-349a643f3ff6", "status": "PENDING"}
    )
    client = make_client([httpx.Response(429, json=limited, headers={"Retry-After": "3"}), ok])
    sent = await client.send_token("0x7099", 1000, network="ethereum-sepolia")
    assert sent.id.startswith("01a2139f") and len(recorder.requests) == 2
    assert recorder.sleeps and recorder.sleeps[0] >= 3
