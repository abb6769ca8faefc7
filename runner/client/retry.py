"""When a failed call may be tried again, and how long to wait (built on tenacity).

The rule that matters: a call that changes state on the daemon (a send, a session
renewal) is repeated only when the first attempt *provably* changed nothing, because the
daemon has no idempotency key (waiaas-api.md §3.5). Provably means: the connection was
never made, or the daemon itself answered with its JSON error body (any such answer
means no row was inserted) and marked it ``retryable``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from runner.client.errors import WAIaaSError
from runner.lazy import lazy_module

if TYPE_CHECKING:
    import tenacity
    from tenacity import AsyncRetrying, RetryCallState
else:
    tenacity = lazy_module("tenacity")  # built only once a call has failed

__all__ = ["RetryPolicy", "never_sent"]

log = logging.getLogger("runner.client")

# Failures that happen before a single byte of the request reaches the daemon.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Statuses a proxy in front of the daemon uses for "upstream unavailable".
_PROXY_STATUSES = frozenset({502, 503, 504})


def never_sent(exc: BaseException) -> bool:
    """True when the request provably did not reach the daemon."""
    return isinstance(exc, _NEVER_SENT)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently the client repeats a failed call.

    Defaults match the upstream SDK: 3 retries, exponential from ``base_delay`` (1 s,
    2 s, 4 s) capped at ``max_delay``, for {429, 500, 502, 503, 504} answers whose
    body says ``retryable: true``. On top of that: a ``Retry-After`` header is honoured
    (the wait is at least that long; a longer one than ``max_retry_after`` is not
    waited for), reads also retry transport failures and timeouts, and ``sleep`` can be
    replaced so tests never really wait.
    """

    max_retries: int = 3
    base_delay: float = 1.0
    max_delay: float = 10.0
    retryable_status_codes: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    respect_retry_after: bool = True
    max_retry_after: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def should_retry(self, exc: BaseException, *, idempotent: bool) -> bool:
        """Whether ``exc`` from one attempt allows another attempt of the same call."""
        if isinstance(exc, WAIaaSError):
            if exc.retry_after is not None and exc.retry_after > self.max_retry_after:
                return False
            if exc.daemon_body:
                return exc.retryable and exc.status_code in self.retryable_status_codes
            # Not the daemon's body: for a read a proxy hiccup is harmless to repeat;
            # for a write we cannot know whether the daemon saw it.
            return idempotent and exc.status_code in _PROXY_STATUSES
        if isinstance(exc, httpx.TransportError):
            return idempotent or never_sent(exc)
        return False

    def wait_seconds(self, retry_state: RetryCallState) -> float:
        """Exponential backoff, stretched to the server's ``Retry-After`` when it asks."""
        backoff = tenacity.wait_exponential(multiplier=self.base_delay, max=self.max_delay)(
            retry_state
        )
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if self.respect_retry_after and isinstance(exc, WAIaaSError) and exc.retry_after:
            return max(backoff, exc.retry_after)
        return float(backoff)

    def retrying(self, *, idempotent: bool, what: str) -> AsyncRetrying:
        """A tenacity controller for one call; ``what`` names the call in logs."""

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            delay = state.next_action.sleep if state.next_action is not None else 0.0
            log.warning(
                "%s failed (attempt %d: %s); retrying in %.2fs",
                what,
                state.attempt_number,
                _describe(exc),
                delay,
            )

        return tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self.wait_seconds,
            retry=tenacity.retry_if_exception(
                lambda exc: self.should_retry(exc, idempotent=idempotent)
            ),
            sleep=self.sleep,
            before_sleep=log_retry,
            reraise=True,
        )


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, WAIaaSError):
        return f"{exc.status_code} {exc.code}"
    return type(exc).__name__
