"""Error answers exactly as the daemon writes them.

Status and ``retryable`` come from the shared code table (runner.client.errors); the
``hint`` texts are the daemon's own, as recorded (waiaas-recorded.md), because the
sandbox must answer like the daemon, not like our client would explain it.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from runner.client.errors import ERROR_CODES

_NEW_SESSION = "Create a new session via POST /v1/sessions with masterAuth credentials."
DAEMON_HINTS: dict[str, str] = {
    "INVALID_TOKEN": _NEW_SESSION,
    "SESSION_REVOKED": _NEW_SESSION,
    "TOKEN_EXPIRED": "Renew the session via PUT /v1/sessions/{id}/renew, or create a new session.",
    "RENEWAL_TOO_EARLY": "Wait until 50% of session TTL has elapsed before renewing.",
    "SESSION_NOT_FOUND": (
        "The session may have been revoked. Create a new session via POST /v1/sessions."
    ),
    "TX_NOT_FOUND": "Verify the transaction ID. List transactions via GET /v1/transactions.",
    "INVALID_MASTER_PASSWORD": "Check the X-Master-Password header value.",
    "CHAIN_ERROR": "Retry after a short delay.",
}


class DaemonError(Exception):
    """Raised by a handler; rendered by the error middleware as the daemon's JSON body."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        return ERROR_CODES[self.code].status


def validation_error(path: str, message: str) -> DaemonError:
    """The daemon's Zod failure: 400 ACTION_VALIDATION_FAILED with ``details.issues``."""
    return DaemonError(
        "ACTION_VALIDATION_FAILED",
        "Validation error",
        {"issues": [{"path": path, "message": message}]},
    )


def error_body(
    code: str, message: str, request_id: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    body["requestId"] = request_id
    body["retryable"] = ERROR_CODES[code].retryable
    if code in DAEMON_HINTS:
        body["hint"] = DAEMON_HINTS[code]
    return body


def error_response(error: DaemonError, request_id: str) -> web.Response:
    return web.json_response(
        error_body(error.code, error.message, request_id, error.details), status=error.status
    )


def rate_limited_response(message: str, retry_after: float) -> web.Response:
    """The limiter's 429 has no requestId, details or hint, and carries Retry-After."""
    return web.json_response(
        {"code": "RATE_LIMITED", "message": message, "retryable": True},
        status=429,
        headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
    )
