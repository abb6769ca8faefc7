from __future__ import annotations

import httpx

from runner.client import WAIaaSError
from runner.client.errors import parse_retry_after


def test_daemon_body_becomes_fields() -> None:
    response = httpx.Response(
        400,
        json={
            "code": "ACTION_VALIDATION_FAILED",
            "message": "Validation error",
            "details": {"issues": [{"path": "to", "message": "Required"}]},
            "requestId": "01a2139f-e7b6",
            "retryable": False,
        },
    )
    error = WAIaaSError.from_response(response)
    assert error.code == "ACTION_VALIDATION_FAILED"
    assert error.status_code == 400
    assert error.retryable is False
    assert error.details == {"issues": [{"path": "to", "message": "Required"}]}
    assert error.request_id == "01a2139f-e7b6"
    assert error.daemon_body
    assert str(error) == "HTTP 400 ACTION_VALIDATION_FAILED: Validation error"


def test_rate_limit_body_without_request_id_uses_header() -> None:
    response = httpx.Response(
        429,
        json={
            "code": "RATE_LIMITED",
            "message": "Transaction rate limit exceeded",
            "retryable": True,
        },
        headers={"Retry-After": "60", "x-request-id": "hdr-id"},
    )
    error = WAIaaSError.from_response(response)
    assert error.retryable and error.retry_after == 60.0
    assert error.request_id == "hdr-id"


def test_html_from_a_proxy_is_a_clear_error() -> None:
    response = httpx.Response(
        502, content=b"<html><body>Bad Gateway</body></html>", headers={"content-type": "text/html"}
    )
    error = WAIaaSError.from_response(response)
    assert error.code == "HTTP_502"
    assert not error.daemon_body and not error.retryable
    assert "not the daemon's JSON error body" in error.message
    assert "text/html" in error.message


def test_empty_body_is_a_clear_error() -> None:
    error = WAIaaSError.from_response(httpx.Response(504))
    assert error.code == "HTTP_504" and "empty body" in error.message


def test_json_that_is_not_the_error_shape() -> None:
    error = WAIaaSError.from_response(httpx.Response(500, json=["x"]))
    assert not error.daemon_body


def test_session_errors_get_actionable_advice() -> None:
    expired = WAIaaSError.from_response(
        httpx.Response(
            401,
            json={
                "code": "TOKEN_EXPIRED",
                "message": "expired",
                "requestId": "01a213a2-0754",
                "retryable": False,
            },
        )
    )
    assert expired.hint is not None and "new session token" in expired.hint


def test_retry_after_parsing() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert parse_retry_after("-1") is None
    assert parse_retry_after(None) is None
