"""Session tokens: JWT claims, expiry, and every renewal rule with its error code."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from runner.sandbox import Sandbox
from tests.sandbox.conftest import START, client_for


def _claims(token: str) -> dict[str, Any]:
    payload = token.removeprefix("wai_sess_").split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


async def _renew(sandbox: Sandbox, session_id: str, token: str) -> httpx.Response:
    async with client_for(sandbox, token) as api:
        return await api.put(f"/v1/sessions/{session_id}/renew")


async def _address(sandbox: Sandbox, token: str) -> httpx.Response:
    async with client_for(sandbox, token) as api:
        return await api.get("/v1/wallet/address")


async def test_token_is_an_hs256_jwt_about_its_session(frozen: Sandbox) -> None:
    assert frozen.token.startswith("wai_sess_eyJ")
    assert _claims(frozen.token) == {"sub": frozen.session_id, "iat": int(START)}  # unlimited
    session_id, token = frozen.create_session(["agent"], ttl=300)
    assert _claims(token) == {"sub": session_id, "iat": int(START), "exp": int(START) + 300}


async def test_control_endpoint_creates_finite_sessions(api: httpx.AsyncClient) -> None:
    created = await api.post("/_sandbox/sessions", json={"wallets": ["agent"], "ttl": 600})
    body = created.json()
    assert created.status_code == 201 and body["expiresAt"] == int(START) + 600
    assert body["wallets"] == [{"id": body["walletId"], "name": "agent"}]


async def test_expired_token_is_rejected(frozen: Sandbox) -> None:
    _, token = frozen.create_session(["agent"], ttl=300)
    assert (await _address(frozen, token)).status_code == 200
    frozen.advance(300)
    expired = await _address(frozen, token)
    assert expired.status_code == 401
    assert expired.json()["code"] == "TOKEN_EXPIRED"
    assert expired.json()["hint"].startswith("Renew the session via PUT /v1/sessions/{id}/renew")


async def test_bad_missing_and_revoked_tokens(frozen: Sandbox) -> None:
    bogus = await _address(frozen, "wai_sess_bogus")
    assert bogus.json()["message"] == "Invalid authentication token"
    async with httpx.AsyncClient(base_url=frozen.url) as anonymous:
        missing = await anonymous.get("/v1/wallet/address")
    assert missing.status_code == 401 and missing.json()["message"].startswith("Missing or inv")
    session_id, token = frozen.create_session(["agent"])
    frozen.revoke_session(session_id)
    revoked = await _address(frozen, token)
    assert revoked.status_code == 401 and revoked.json()["code"] == "SESSION_REVOKED"


async def test_renewal_window_and_stale_token(frozen: Sandbox) -> None:
    session_id, token = frozen.create_session(["agent"], ttl=300)
    early = await _renew(frozen, session_id, token)
    assert early.status_code == 403 and early.json()["code"] == "RENEWAL_TOO_EARLY"
    assert early.json()["retryable"] is True
    frozen.advance(150)
    renewed = await _renew(frozen, session_id, token)
    assert renewed.status_code == 200
    body = renewed.json()
    assert body["id"] == session_id and body["renewalCount"] == 1
    assert body["expiresAt"] == int(START) + 150 + 300
    assert _claims(body["token"])["exp"] == body["expiresAt"]
    # the old token still authenticates until its own exp, but cannot renew again
    assert (await _address(frozen, token)).status_code == 200
    stale = await _renew(frozen, session_id, token)
    assert stale.status_code == 403 and stale.json()["code"] == "SESSION_RENEWAL_MISMATCH"
    again = await _renew(frozen, session_id, body["token"])
    assert again.json()["code"] == "RENEWAL_TOO_EARLY"
    frozen.advance(150)
    assert (await _address(frozen, token)).json()["code"] == "TOKEN_EXPIRED"
    assert (await _address(frozen, body["token"])).status_code == 200


async def test_renewal_limit_and_absolute_lifetime(frozen: Sandbox) -> None:
    limited_id, limited = frozen.create_session(["agent"], ttl=300, max_renewals=1)
    capped_id, capped = frozen.create_session(["agent"], ttl=300, absolute_lifetime=400)
    frozen.advance(200)
    limited = (await _renew(frozen, limited_id, limited)).json()["token"]
    shrunk = (await _renew(frozen, capped_id, capped)).json()
    assert shrunk["expiresAt"] == int(START) + 400  # the cap shortens the new token
    frozen.advance(200)
    refused = await _renew(frozen, limited_id, limited)
    assert refused.status_code == 403 and refused.json()["code"] == "RENEWAL_LIMIT_REACHED"
    late = await _renew(frozen, capped_id, shrunk["token"])  # now at the cap: token expired
    assert late.status_code == 401 and late.json()["code"] == "TOKEN_EXPIRED"


async def test_absolute_lifetime_exceeded(frozen: Sandbox) -> None:
    session_id, token = frozen.create_session(["agent"], ttl=1000, absolute_lifetime=400)
    frozen.advance(500)  # token still valid (exp +1000), past the session's lifetime
    exceeded = await _renew(frozen, session_id, token)
    assert exceeded.status_code == 403
    assert exceeded.json()["code"] == "SESSION_ABSOLUTE_LIFETIME_EXCEEDED"


async def test_unlimited_and_foreign_sessions(frozen: Sandbox) -> None:
    unlimited = await _renew(frozen, frozen.session_id, frozen.token)
    assert unlimited.status_code == 400 and unlimited.json()["code"] == "RENEWAL_NOT_REQUIRED"
    other_id, _ = frozen.create_session(["agent"], ttl=300)
    foreign = await _renew(frozen, other_id, frozen.token)
    assert foreign.status_code == 404
    assert foreign.json()["message"] == "Cannot renew a different session"


async def test_the_token_stays_out_of_reprs(frozen: Sandbox) -> None:
    for text in (repr(frozen), repr(frozen.core.ready), str(frozen.core.ready)):
        assert frozen.token not in text
