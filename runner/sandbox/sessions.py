"""Session tokens and the daemon's authentication and renewal rules.

Tokens are ``wai_sess_`` + an HS256 JWT with ``sub`` (session id), ``iat`` and, for
finite sessions, ``exp``. Like the daemon, authentication checks the signature, then
expiry (against the sandbox clock), then that the session exists and is not revoked;
it does not compare the token with the stored hash, so a pre-renewal token keeps
working until its own ``exp`` but can no longer renew (waiaas-api.md §1.1, §1.4).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import jwt

from runner.sandbox.errors import DaemonError
from runner.sandbox.state import SessionRow, Store

PREFIX = "wai_sess_"
_BEARER = "Bearer " + PREFIX
_DECODE_OPTIONS = {
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
    "require": ["sub", "iat"],
}
_CACHE_LIMIT = 4096


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(
        self, store: Store, clock: Callable[[], float], new_id: Callable[[], str], secret: str
    ) -> None:
        self._store = store
        self._clock = clock
        self._new_id = new_id
        self._secret = secret
        # Verified claims by token: a signature check per request is the costliest step.
        self._verified: dict[str, dict[str, Any]] = {}

    def _mint(self, session_id: str, iat: int, exp: int | None) -> str:
        claims: dict[str, Any] = {"sub": session_id, "iat": iat}
        if exp is not None:
            claims["exp"] = exp
        return PREFIX + jwt.encode(claims, self._secret, algorithm="HS256")

    def current_token(self, session: SessionRow) -> str:
        """The session's newest token; HS256 is deterministic, so it is minted again."""
        return self._mint(session.id, session.token_iat, session.token_exp)

    def create(
        self,
        wallet_ids: list[str],
        ttl: int | None = None,
        max_renewals: int = 0,
        absolute_lifetime: int = 0,
    ) -> tuple[SessionRow, str]:
        now = int(self._clock())
        session_id = self._new_id()
        absolute = now + absolute_lifetime if absolute_lifetime else 0
        exp = None if ttl is None else now + ttl  # only renewals are capped by the lifetime
        token = self._mint(session_id, now, exp)
        session = SessionRow(
            id=session_id,
            wallet_ids=json.dumps(wallet_ids),
            token_hash=token_hash(token),
            token_iat=now,
            token_exp=exp,
            max_renewals=max_renewals,
            absolute_expires_at=absolute,
            renewal_count=0,
            created_at=now,
            last_renewed_at=None,
            revoked_at=None,
        )
        self._store.add_session(session)
        return session, token

    def revoke(self, session_id: str) -> bool:
        if self._store.session(session_id) is None:
            return False
        self._store.update_session(session_id, revoked_at=int(self._clock()))
        return True

    def is_usable(self, session: SessionRow) -> bool:
        """Not revoked and its newest token not expired (for choosing the ready-line session)."""
        expired = session.token_exp is not None and self._clock() >= session.token_exp
        return session.revoked_at is None and not expired

    def authenticate(self, authorization: str | None) -> tuple[SessionRow, str, dict[str, Any]]:
        """The session, token and claims of a request, or the daemon's 401/404."""
        if not authorization or not authorization.startswith(_BEARER):
            raise DaemonError(
                "INVALID_TOKEN",
                "Missing or invalid Authorization header. Expected: Bearer wai_sess_<token>",
            )
        token = authorization[len("Bearer ") :]
        claims = self._verify(token)
        exp = claims.get("exp")
        if exp is not None and self._clock() >= exp:
            raise DaemonError("TOKEN_EXPIRED", "Authentication token has expired")
        session = self._store.session(str(claims["sub"]))
        if session is None:
            raise DaemonError("SESSION_NOT_FOUND", "Session not found")
        if session.revoked_at is not None:
            raise DaemonError("SESSION_REVOKED", "Session has been revoked")
        return session, token, claims

    def _verify(self, token: str) -> dict[str, Any]:
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token[len(PREFIX) :],
                    self._secret,
                    algorithms=["HS256"],
                    options=_DECODE_OPTIONS,  # type: ignore[arg-type]
                )
            except jwt.PyJWTError:
                raise DaemonError("INVALID_TOKEN", "Invalid authentication token") from None
            if len(self._verified) >= _CACHE_LIMIT:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def renew(
        self, path_id: str, session: SessionRow, token: str, claims: dict[str, Any]
    ) -> dict[str, Any]:
        """``PUT /v1/sessions/{id}/renew``: the daemon's checks, in the daemon's order."""
        if path_id != session.id:
            raise DaemonError("SESSION_NOT_FOUND", "Cannot renew a different session")
        if session.token_exp is None:
            raise DaemonError("RENEWAL_NOT_REQUIRED", "Unlimited session does not require renewal")
        if token_hash(token) != session.token_hash:
            raise DaemonError("SESSION_RENEWAL_MISMATCH", "Session renewal count mismatch")
        if session.max_renewals > 0 and session.renewal_count >= session.max_renewals:
            raise DaemonError(
                "RENEWAL_LIMIT_REACHED",
                f"Session renewal limit reached ({session.max_renewals} renewals)",
            )
        now = int(self._clock())
        if session.absolute_expires_at and now >= session.absolute_expires_at:
            raise DaemonError(
                "SESSION_ABSOLUTE_LIFETIME_EXCEEDED", "Session absolute lifetime exceeded"
            )
        iat, exp = int(claims["iat"]), int(claims["exp"])
        if now - iat < 0.5 * (exp - iat):
            raise DaemonError("RENEWAL_TOO_EARLY", "Session renewal attempted too early")
        new_exp = now + (exp - iat)
        if session.absolute_expires_at:
            new_exp = min(new_exp, session.absolute_expires_at)
        new_token = self._mint(session.id, now, new_exp)
        count = session.renewal_count + 1
        self._store.update_session(
            session.id,
            token_hash=token_hash(new_token),
            token_iat=now,
            token_exp=new_exp,
            renewal_count=count,
            last_renewed_at=now,
        )
        return {"id": session.id, "token": new_token, "expiresAt": new_exp, "renewalCount": count}
