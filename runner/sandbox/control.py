"""Sandbox-only control endpoints under ``/_sandbox/`` (the real daemon has no such prefix).

They play the operator and the world around the daemon: approve or reject an APPROVAL
transaction, set and clear faults, move the clock, create or revoke sessions, make a
recipient's transactions stick in SUBMITTED, switch rate limits and the signing race (and
set how long a send signs), count transactions.
They need no credentials: the sandbox listens on loopback and guards no funds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from runner.sandbox.clock import Clock
from runner.sandbox.core import SandboxCore
from runner.sandbox.faults import FaultRule
from runner.sandbox.fixture import SessionSpec
from runner.sandbox.lifecycle import TransitionError

Handler = Callable[[web.Request], Awaitable[web.Response]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def add_control_routes(app: web.Application, core: SandboxCore) -> None:
    control = Control(core)
    for method, path, handler in [
        ("GET", "/_sandbox/info", control.info),
        ("POST", "/_sandbox/transactions/{id}/approve", control.approve),
        ("POST", "/_sandbox/transactions/{id}/reject", control.reject),
        ("GET", "/_sandbox/transactions/count", control.count),
        ("GET", "/_sandbox/faults", control.list_faults),
        ("POST", "/_sandbox/faults", control.add_fault),
        ("DELETE", "/_sandbox/faults", control.clear_faults),
        ("DELETE", "/_sandbox/faults/{id}", control.remove_fault),
        ("POST", "/_sandbox/clock/advance", control.advance_clock),
        ("POST", "/_sandbox/sessions", control.create_session),
        ("DELETE", "/_sandbox/sessions/{id}", control.revoke_session),
        ("PUT", "/_sandbox/stuck", control.stuck),
        ("PUT", "/_sandbox/rate-limits", control.rate_limits),
        ("PUT", "/_sandbox/signing", control.signing),
    ]:
        app.router.add_route(method, path, _answering_errors(handler))


def _answering_errors(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except ControlError as error:
            return web.json_response({"error": str(error)}, status=error.status)
        except ValidationError as error:
            return web.json_response({"error": str(error)}, status=400)

    return wrapped


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        raise ControlError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


class Control:
    def __init__(self, core: SandboxCore) -> None:
        self.core = core

    async def info(self, request: web.Request) -> web.Response:
        core = self.core
        core.lifecycle.advance()
        return web.json_response(
            {
                "sandbox": True,
                "now": core.clock(),
                "sessionId": core.ready.id,
                "wallets": core.ready_line("")["wallets"],
                "transactions": core.store.count_txs(),
                "faults": core.faults.describe(),
                "rateLimits": core.limiter.enabled,
                "signing": _signing(core),
                "stuckRecipients": sorted(core.lifecycle.stuck_recipients),
                "clockControllable": isinstance(core.clock, Clock),
            }
        )

    def _tx(self, request: web.Request) -> Any:
        self.core.lifecycle.advance()
        tx = self.core.store.tx(request.match_info["id"])
        if tx is None:
            raise ControlError(404, f"no transaction {request.match_info['id']}")
        return tx

    async def approve(self, request: web.Request) -> web.Response:
        return self._decide(request, "approve", "EXECUTING", "approvedAt")

    async def reject(self, request: web.Request) -> web.Response:
        return self._decide(request, "reject", "CANCELLED", "rejectedAt")

    def _decide(self, request: web.Request, verb: str, status: str, stamp: str) -> web.Response:
        """The owner's decision on an APPROVAL-tier transaction, answered as the daemon does."""
        tx = self._tx(request)
        try:
            getattr(self.core.lifecycle, verb)(tx)
        except TransitionError as error:
            raise ControlError(409, f"cannot {verb}: {error}") from None
        return web.json_response({"id": tx.id, "status": status, stamp: int(self.core.clock())})

    async def count(self, request: web.Request) -> web.Response:
        self.core.lifecycle.advance()
        by_status = self.core.store.count_txs(request.query.get("walletId") or None)
        return web.json_response({"total": sum(by_status.values()), "byStatus": by_status})

    async def list_faults(self, request: web.Request) -> web.Response:
        return web.json_response({"faults": self.core.faults.describe()})

    async def add_fault(self, request: web.Request) -> web.Response:
        rule = FaultRule.model_validate(await _body(request))
        rule_id = self.core.faults.add(rule)
        return web.json_response({"id": rule_id, **rule.model_dump(exclude_none=True)}, status=201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.core.faults.clear()
        return web.json_response({"faults": []})

    async def remove_fault(self, request: web.Request) -> web.Response:
        raw = request.match_info["id"]
        if not raw.isdigit() or not self.core.faults.remove(int(raw)):
            raise ControlError(404, f"no fault {raw}")
        return web.json_response({"id": int(raw), "removed": True})

    async def advance_clock(self, request: web.Request) -> web.Response:
        clock = self.core.clock
        if not isinstance(clock, Clock):
            raise ControlError(409, "this sandbox runs on a clock it cannot move")
        seconds = (await _body(request)).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError(400, "seconds must be a non-negative number")
        now = clock.advance(float(seconds))
        self.core.lifecycle.advance()
        return web.json_response({"now": now})

    async def create_session(self, request: web.Request) -> web.Response:
        body = await _body(request)
        names = body.get("wallets") or [w.name for w in self.core.wallets.values()]
        try:
            spec = SessionSpec(
                wallets=names,
                ttl=body.get("ttl"),
                max_renewals=body.get("maxRenewals", 0),
                absolute_lifetime=body.get("absoluteLifetime", 0),
            )
            session, token = self.core.create_session(spec)
        except KeyError as error:
            raise ControlError(404, f"no wallet {error.args[0]}") from None
        linked = [self.core.wallets[w] for w in session.wallets]
        return web.json_response(
            {
                "id": session.id,
                "token": token,
                "expiresAt": session.token_exp or 0,
                "walletId": linked[0].id,
                "wallets": [{"id": w.id, "name": w.name} for w in linked],
            },
            status=201,
        )

    async def revoke_session(self, request: web.Request) -> web.Response:
        session_id = request.match_info["id"]
        if not self.core.sessions.revoke(session_id):
            raise ControlError(404, f"no session {session_id}")
        return web.json_response({"id": session_id, "status": "REVOKED"})

    async def stuck(self, request: web.Request) -> web.Response:
        body = await _body(request)
        address = body.get("address")
        if not isinstance(address, str) or not address:
            raise ControlError(400, "address is required")
        self.core.lifecycle.set_stuck(address, bool(body.get("stuck", True)))
        return web.json_response({"stuckRecipients": sorted(self.core.lifecycle.stuck_recipients)})

    async def rate_limits(self, request: web.Request) -> web.Response:
        enabled = (await _body(request)).get("enabled")
        if not isinstance(enabled, bool):
            raise ControlError(400, "enabled must be true or false")
        self.core.limiter.enabled = enabled
        return web.json_response({"enabled": enabled})

    async def signing(self, request: web.Request) -> web.Response:
        """``{"race": bool, "pipelineSeconds": number}``, either or both: whether overlapping
        signings of one wallet collide, and how long a new send stays PENDING (signing)."""
        body = await _body(request)
        unknown = sorted(set(body) - {"race", "pipelineSeconds"})
        if unknown or not body:
            raise ControlError(400, "give race (true or false) and/or pipelineSeconds (>= 0)")
        race, seconds = body.get("race"), body.get("pipelineSeconds")
        if "race" in body and not isinstance(race, bool):
            raise ControlError(400, "race must be true or false")
        if "pipelineSeconds" in body and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0
        ):
            raise ControlError(400, "pipelineSeconds must be a non-negative number")
        self.core.lifecycle.advance()
        set_signing(self.core, race=race, pipeline_seconds=seconds)
        return web.json_response(_signing(self.core))


def set_signing(
    core: SandboxCore, *, race: bool | None = None, pipeline_seconds: float | None = None
) -> None:
    """Switch the signing race and/or set how long a new send signs (PENDING)."""
    lifecycle = core.lifecycle
    if race is not None:
        lifecycle.signing.enabled = race
    if pipeline_seconds is not None:
        lifecycle.timings = lifecycle.timings.model_copy(
            update={"pipeline_seconds": float(pipeline_seconds)}
        )


def _signing(core: SandboxCore) -> dict[str, Any]:
    return {
        "race": core.lifecycle.signing.enabled,
        "pipelineSeconds": core.lifecycle.timings.pipeline_seconds,
        "executeSeconds": core.lifecycle.timings.execute_seconds,
    }
