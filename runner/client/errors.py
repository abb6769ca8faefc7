"""Errors raised by the WAIaaS client, and how the daemon's own error body is recognised.

The daemon answers every failure with one JSON body,
``{code, message, requestId, retryable, details?, hint?}`` (its rate limiter's 429 is
exactly ``{code: "RATE_LIMITED", message, retryable: true}``), and fixes the status and
the ``retryable`` flag per code. Only an answer of exactly that shape, with a code the
daemon defines and the status and flag that code has, counts as the daemon's refusal
(``daemon_body=True``: for a send, nothing was inserted). Anything else — HTML from a
proxy, an empty 502, a gateway's own JSON such as ``{"code": "BAD_GATEWAY", ...}`` —
still becomes a :class:`WAIaaSError`, with ``daemon_body=False``: something in between
answered, and whether the daemon saw the request cannot be known.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from runner.client.codes import ERROR_CODES, ErrorCode

__all__ = [
    "ERROR_CODES",
    "AmbiguousSendError",
    "ErrorCode",
    "InvalidResponseError",
    "SessionRenewalError",
    "TransportError",
    "WAIaaSError",
]


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
        if body is not None and is_daemon_error_body(body, response.status_code):
            code = body["code"]
            return cls(
                code=code,
                message=body["message"],
                status_code=response.status_code,
                retryable=body["retryable"],
                details=body.get("details"),
                request_id=body.get("requestId") or response.headers.get("x-request-id"),
                hint=body.get("hint") or _SESSION_ADVICE.get(code),
                retry_after=retry_after,
            )
        return cls(
            code=f"HTTP_{response.status_code}",
            message=(
                f"the answer was not the daemon's JSON error body "
                f"({_describe_body(response, body)}); a proxy or another server may be in "
                "between"
            ),
            status_code=response.status_code,
            retryable=False,
            request_id=response.headers.get("x-request-id"),
            retry_after=retry_after,
            daemon_body=False,
        )


_BODY_FIELDS = frozenset({"code", "message", "requestId", "retryable", "hint", "details"})
_LIMITER_FIELDS = frozenset({"code", "message", "retryable"})


def is_daemon_error_body(body: dict[str, Any], status: int) -> bool:
    """Whether ``body`` (answered with ``status``) is the daemon's own error body.

    Strict on purpose: a lookalike taken for the daemon's refusal turns a send the daemon
    may have created into one that is posted again.
    """
    code = body.get("code")
    known: ErrorCode | None = ERROR_CODES.get(code) if isinstance(code, str) else None
    if known is None or known.status != status or body.get("retryable") is not known.retryable:
        return False
    if not isinstance(body.get("message"), str) or not set(body) <= _BODY_FIELDS:
        return False
    if "hint" in body and not isinstance(body["hint"], str):
        return False
    if "details" in body and not isinstance(body["details"], dict):
        return False
    if isinstance(body.get("requestId"), str) and body["requestId"]:
        return True
    # Only the rate limiter answers without a request id, and only with these fields.
    return code == "RATE_LIMITED" and set(body) == _LIMITER_FIELDS


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


def _describe_body(response: httpx.Response, body: dict[str, Any] | None) -> str:
    content_type = response.headers.get("content-type", "no content type")
    if not response.content:
        return f"empty body, {content_type}"
    if body is not None and isinstance(body.get("code"), str):
        # a gateway's own JSON error: worth quoting, it says what went wrong in between
        said = f"{body['code']}: {body.get('message')}"[:120]
        return f"JSON saying {said!r}"
    return f"{len(response.content)} bytes of {content_type.split(';')[0]}"
