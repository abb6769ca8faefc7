"""Errors raised by the WAIaaS client, and the daemon's error-code table.

The daemon answers every failure with one JSON body,
``{code, message, details?, requestId?, retryable, hint?}``; the status and the
``retryable`` flag are fixed per code. A body that is not that shape (HTML from a
proxy, an empty 502) still becomes a :class:`WAIaaSError`, with ``daemon_body=False``
so callers can tell "the daemon refused" (nothing was created) from "something in
between answered" (we cannot know).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = [
    "ERROR_CODES",
    "AmbiguousSendError",
    "ErrorCode",
    "InvalidResponseError",
    "SessionRenewalError",
    "TransportError",
    "WAIaaSError",
]


@dataclass(frozen=True)
class ErrorCode:
    """One row of the daemon's error-code table (status and retryability are per code)."""

    status: int
    retryable: bool
    hint: str | None = None


def _codes(status: int, retryable: bool, *names: str) -> dict[str, ErrorCode]:
    return {name: ErrorCode(status, retryable) for name in names}


# The subset of the daemon's 147 codes that the wallet/transaction/session routes can
# produce (waiaas-api.md §5.2). Hints are what a runner user should do, in our words.
ERROR_CODES: dict[str, ErrorCode] = {
    **_codes(401, False, "INVALID_TOKEN", "SESSION_REVOKED", "INVALID_MASTER_PASSWORD"),
    "TOKEN_EXPIRED": ErrorCode(
        401, False, "Renew the session before it expires, or create a new session."
    ),
    **_codes(503, False, "SYSTEM_LOCKED", "SHUTTING_DOWN"),
    **_codes(400, False, "RENEWAL_NOT_REQUIRED", "WALLET_ID_REQUIRED"),
    **_codes(
        403,
        False,
        "RENEWAL_LIMIT_REACHED",
        "SESSION_ABSOLUTE_LIFETIME_EXCEEDED",
        "SESSION_RENEWAL_MISMATCH",
        "WALLET_ACCESS_DENIED",
        "SESSION_LIMIT_EXCEEDED",
        "POLICY_DENIED",
    ),
    "RENEWAL_TOO_EARLY": ErrorCode(
        403, True, "Wait until 50% of the session TTL has elapsed before renewing."
    ),
    "SESSION_NOT_FOUND": ErrorCode(404, False),
    **_codes(
        400,
        False,
        "ENVIRONMENT_NETWORK_MISMATCH",
        "NETWORK_REQUIRED",
        "ACTION_VALIDATION_FAILED",
        "VALIDATION_FAILED",
        "INVALID_ADDRESS",
    ),
    "TX_NOT_FOUND": ErrorCode(
        404, False, "Verify the transaction ID. List transactions via GET /v1/transactions."
    ),
    "WALLET_NOT_FOUND": ErrorCode(404, False),
    "TX_ALREADY_PROCESSED": ErrorCode(409, False),
    "WALLET_TERMINATED": ErrorCode(410, False),
    "CHAIN_ERROR": ErrorCode(502, True, "Retry after a short delay."),
    **_codes(504, True, "SIMULATION_TIMEOUT", "TRANSACTION_TIMEOUT"),
    **_codes(503, True, "KEYSTORE_LOCKED", "ADAPTER_NOT_AVAILABLE"),
    "RATE_LIMITED": ErrorCode(429, True),
    "INTERNAL_ERROR": ErrorCode(500, False),
}

# What a person should do about session errors the runner cannot fix by itself.
_SESSION_ADVICE: dict[str, str] = {
    "TOKEN_EXPIRED": "the session token has expired and can no longer be renewed; "
    "ask the operator for a new session token",
    "RENEWAL_TOO_EARLY": "renewal is only allowed after 50% of the token's TTL has elapsed; "
    "try again later",
    "RENEWAL_LIMIT_REACHED": "the session reached its maxRenewals; "
    "ask the operator for a new session token",
    "SESSION_ABSOLUTE_LIFETIME_EXCEEDED": "the session passed its absolute lifetime; "
    "ask the operator for a new session token",
    "SESSION_RENEWAL_MISMATCH": "this token was already replaced by a renewal; "
    "use the newest token for the session",
    "RENEWAL_NOT_REQUIRED": "the session is unlimited and never needs renewal",
    "SESSION_REVOKED": "the session was revoked; ask the operator for a new session token",
}


class WAIaaSError(Exception):
    """An error answer from the daemon (or from something standing in front of it).

    ``daemon_body`` is True only when the body was the daemon's own JSON error shape:
    for a send, that proves no transaction was inserted.
    """

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int | None = None,
        retryable: bool = False,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        *,
        retry_after: float | None = None,
        daemon_body: bool = True,
    ) -> None:
        self.code = code
        self.message = message
        self.status_code = status_code
        self.retryable = retryable
        self.details = details
        self.request_id = request_id
        self.hint = hint
        self.retry_after = retry_after
        self.daemon_body = daemon_body
        super().__init__(str(self))

    def __str__(self) -> str:
        status = f"HTTP {self.status_code} " if self.status_code is not None else ""
        text = f"{status}{self.code}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status_code={self.status_code!r}, "
            f"retryable={self.retryable!r}, message={self.message!r})"
        )

    @classmethod
    def from_response(cls, response: httpx.Response) -> WAIaaSError:
        """Build the error for a non-2xx answer, whatever its body looks like."""
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        body = _json_object(response)
        if body is not None and isinstance(body.get("code"), str) and "message" in body:
            code = body["code"]
            details = body.get("details")
            return cls(
                code=code,
                message=str(body["message"]),
                status_code=response.status_code,
                retryable=bool(body.get("retryable", False)),
                details=details if isinstance(details, dict) else None,
                request_id=body.get("requestId") or response.headers.get("x-request-id"),
                hint=body.get("hint") or _SESSION_ADVICE.get(code),
                retry_after=retry_after,
            )
        return cls(
            code=f"HTTP_{response.status_code}",
            message=(
                f"the answer was not the daemon's JSON error body "
                f"({_describe_body(response)}); a proxy or another server may be in between"
            ),
            status_code=response.status_code,
            retryable=False,
            request_id=response.headers.get("x-request-id"),
            retry_after=retry_after,
            daemon_body=False,
        )


class InvalidResponseError(WAIaaSError):
    """A 2xx answer whose body is not what the daemon sends (HTML, missing fields)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__("INVALID_RESPONSE", message, status_code, daemon_body=False)


class SessionRenewalError(WAIaaSError):
    """Renewing the session failed; ``code`` says why and the message says what to do."""


class TransportError(WAIaaSError):
    """The request could not be delivered; for a send it provably created nothing.

    Raised for failures before any byte reached the daemon (connection refused, DNS,
    connect timeout) once the retry policy gives up.
    """

    def __init__(self, message: str) -> None:
        super().__init__("TRANSPORT_ERROR", message, None, retryable=True, daemon_body=False)


class AmbiguousSendError(WAIaaSError):
    """A send whose outcome is unknown: the daemon may or may not have created it.

    ``request`` is the JSON body that was sent (no secrets in it), so a caller can
    reconcile against ``GET /v1/transactions`` before deciding anything. Never retried.
    """

    def __init__(self, message: str, request: dict[str, Any], status_code: int | None = None):
        super().__init__("AMBIGUOUS_SEND", message, status_code, daemon_body=False)
        self.request = request


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form only; dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _describe_body(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "no content type")
    if not response.content:
        return f"empty body, {content_type}"
    return f"{len(response.content)} bytes of {content_type.split(';')[0]}"
