"""Session tokens: reading their claims locally, and keeping a finite session alive.

The daemon only renews a token between 50 % of its TTL and its expiry; once expired it
can never be renewed (waiaas-api.md §1.4). The keeper therefore renews at a chosen
fraction of the TTL (60 % by default, so a little clock skew still lands inside the
window) and tells the caller the new token, so it can be persisted.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.client.errors import SessionRenewalError, WAIaaSError
from runner.client.models import RenewedSession

if TYPE_CHECKING:
    from runner.client._client import WAIaaSClient

__all__ = ["SessionKeeper", "TokenClaims", "decode_token_claims"]

TOKEN_PREFIX = "wai_sess_"
log = logging.getLogger("runner.client")

OnRenewed = Callable[[RenewedSession], Awaitable[None] | None]


@dataclass(frozen=True)
class TokenClaims:
    """What a session token says about itself (read without verifying the signature)."""

    session_id: str
    issued_at: int
    expires_at: int | None  # None: an unlimited session

    @property
    def ttl(self) -> int | None:
        return None if self.expires_at is None else self.expires_at - self.issued_at

    def renewal_opens_at(self) -> float | None:
        """The earliest moment the daemon accepts a renewal (50 % of the TTL)."""
        return None if self.ttl is None else self.issued_at + self.ttl / 2


def decode_token_claims(token: str) -> TokenClaims:
    """Read ``sub``/``iat``/``exp`` from ``wai_sess_<JWT>``; errors never quote the token."""
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError(f"a session token starts with {TOKEN_PREFIX!r}")
    parts = token[len(TOKEN_PREFIX) :].split(".")
    if len(parts) != 3:
        raise ValueError("the session token is not a JWT (expected three dot-separated parts)")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims: Any = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the session token's payload is not base64url JSON") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("sub"), str):
        raise ValueError("the session token has no 'sub' (session id) claim")
    issued_at, expires_at = claims.get("iat"), claims.get("exp")
    if not isinstance(issued_at, int) or not (expires_at is None or isinstance(expires_at, int)):
        raise ValueError("the session token's 'iat'/'exp' claims are not integers")
    return TokenClaims(claims["sub"], issued_at, expires_at)


class SessionKeeper:
    """Renews the client's finite session inside the daemon's window until stopped.

    Use as ``async with SessionKeeper(client, on_renewed=save): ...``. Renewals are
    serialised by the client, so a keeper and an explicit ``renew_session()`` never race
    (a race would cost the loser a ``SESSION_RENEWAL_MISMATCH``).
    """

    def __init__(
        self,
        client: WAIaaSClient,
        *,
        on_renewed: OnRenewed | None = None,
        renew_at: float = 0.6,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        too_early_backoff: float = 5.0,
    ) -> None:
        if not 0.5 <= renew_at < 1.0:
            raise ValueError("renew_at must be within the daemon's window [0.5, 1.0)")
        self._client = client
        self._on_renewed = on_renewed
        self._renew_at = renew_at
        self._clock = clock
        self._sleep = sleep
        self._too_early_backoff = too_early_backoff
        self._task: asyncio.Task[None] | None = None
        self.error: WAIaaSError | None = None

    def next_renewal(self) -> float | None:
        """Wall-clock second of the next planned renewal, None for an unlimited session."""
        claims = decode_token_claims(self._client.session_token)
        if claims.ttl is None:
            return None
        return claims.issued_at + claims.ttl * self._renew_at

    async def run(self) -> None:
        """Renew whenever due; returns when the session is unlimited or cannot be renewed."""
        while (due := self.next_renewal()) is not None:
            await self._sleep(max(0.0, due - self._clock()))
            try:
                renewed = await self._client.renew_session()
            except SessionRenewalError as exc:
                if exc.code == "RENEWAL_TOO_EARLY":  # our clock runs ahead of the daemon's
                    await self._sleep(self._too_early_backoff)
                    continue
                self.error = exc
                log.error("session renewal stopped: %s", exc)
                return
            log.info("session renewed (renewal %d)", renewed.renewal_count)
            if self._on_renewed is not None:
                result = self._on_renewed(renewed)
                if inspect.isawaitable(result):
                    await result

    async def __aenter__(self) -> SessionKeeper:
        self._task = asyncio.create_task(self.run(), name="waiaas-session-keeper")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
