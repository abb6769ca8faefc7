"""The daemon's REST surface on aiohttp: middleware (request id, sandbox marker, faults,
host guard, rate limits, error bodies) and the session-authenticated routes."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from aiohttp import web

from runner.sandbox import views
from runner.sandbox.bodies import parse_send, resolve_network
from runner.sandbox.connect import connect_info
from runner.sandbox.control import add_control_routes
from runner.sandbox.core import SandboxCore
from runner.sandbox.errors import (
    DaemonError,
    error_response,
    rate_limited_response,
    validation_error,
)
from runner.sandbox.faults import apply_fault
from runner.sandbox.lifecycle import TransitionError
from runner.sandbox.networks import NETWORKS, Network
from runner.sandbox.ratelimit import RateLimited
from runner.sandbox.simulate import dry_run
from runner.sandbox.state import NATIVE, SessionRow, TxRow, WalletRow

_log = logging.getLogger(__name__)
SANDBOX_HEADER = "X-WAIaaS-Sandbox"
CONTROL_PREFIX = "/_sandbox/"
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_SCHEMA_VERSION = 62
_SESSION_AUTH_PREFIXES = (
    "/v1/wallet/",
    "/v1/transactions",
    "/v1/connect-info",
    "/v1/utils/",
    "/v1/actions/",
    "/v1/x402/",
    "/v1/rpc-evm/",
)


def build_app(core: SandboxCore, closing: asyncio.Event) -> web.Application:
    routes = DaemonRoutes(core)

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-Id") or core.new_id()

        async def serve(request: web.Request) -> web.StreamResponse:
            try:
                if core.fixture.host_guard and _hostname(request.host) not in _LOCAL_HOSTS:
                    raise DaemonError("SYSTEM_LOCKED", "Only localhost access allowed")
                core.limiter.check_ip(
                    request.headers.get("X-Forwarded-For"), request.headers.get("X-Real-Ip")
                )
                response: web.StreamResponse = await handler(request)
                return response
            except DaemonError as error:
                return error_response(error, request_id)
            except RateLimited as limited:
                return rate_limited_response(limited.message, limited.retry_after)
            except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
                if request.path.startswith(_SESSION_AUTH_PREFIXES):
                    # sessionAuth is mounted on the prefix, so it answers before the 404
                    try:
                        core.sessions.authenticate(request.headers.get("Authorization"))
                    except DaemonError as error:
                        return error_response(error, request_id)
                return web.Response(status=404, text="404 Not Found")  # Hono's bare 404
            except web.HTTPException:
                raise
            except Exception as unexpected:  # the daemon answers these as INTERNAL_ERROR too
                _log.exception("sandbox handler failed")
                return error_response(DaemonError("INTERNAL_ERROR", str(unexpected)), request_id)

        response: web.StreamResponse
        if request.path.startswith(CONTROL_PREFIX):
            response = await handler(request)
        else:
            rule = core.faults.take(request.method, request.path)
            if rule is None:
                response = await serve(request)
            else:
                response = await apply_fault(rule, request, serve, request_id, closing)
        response.headers["X-Request-Id"] = request_id
        response.headers[SANDBOX_HEADER] = "1"
        return response

    app = web.Application(middlewares=[middleware])
    app.router.add_get("/health", routes.health)
    app.router.add_get("/v1/connect-info", routes.connect_info)
    app.router.add_get("/v1/wallet/address", routes.address)
    app.router.add_get("/v1/wallet/balance", routes.balance)
    app.router.add_get("/v1/wallet/assets", routes.assets)
    app.router.add_post("/v1/transactions/send", routes.send)
    app.router.add_post("/v1/transactions/simulate", routes.simulate)
    app.router.add_get("/v1/transactions", routes.list_transactions)
    app.router.add_get("/v1/transactions/pending", routes.pending)
    app.router.add_get("/v1/transactions/{id}", routes.get_transaction)
    app.router.add_post("/v1/transactions/{id}/cancel", routes.cancel)
    app.router.add_put("/v1/sessions/{id}/renew", routes.renew)
    add_control_routes(app, core)
    return app


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class DaemonRoutes:
    def __init__(self, core: SandboxCore) -> None:
        self.core = core

    # -- shared steps -----------------------------------------------------------------
    def _session(self, request: web.Request, *, limited: bool = True) -> SessionRow:
        session, _, _ = self.core.sessions.authenticate(request.headers.get("Authorization"))
        if limited:
            self.core.limiter.check_session(session.id, request.path)
        return session

    def _wallet(self, request: web.Request, session: SessionRow) -> WalletRow:
        return self.core.resolve_wallet(session, request.query.get("walletId") or None)

    def _tx(self, request: web.Request) -> TxRow:
        tx_id = request.match_info["id"]
        try:
            uuid.UUID(tx_id)
        except ValueError:
            raise validation_error("id", "Invalid uuid") from None
        self.core.lifecycle.advance()
        tx = self.core.store.tx(tx_id)
        if tx is None:
            raise DaemonError("TX_NOT_FOUND", f"Transaction '{tx_id}' not found")
        return tx

    def _detail(self, tx: TxRow) -> dict[str, Any]:
        return views.tx_detail(tx, _network(tx))

    # -- routes -----------------------------------------------------------------------
    async def health(self, request: web.Request) -> web.Response:
        now = self.core.clock()
        return web.json_response(
            {
                "status": "ok",
                "version": self.core.fixture.version,
                "latestVersion": None,
                "updateAvailable": False,
                "schemaVersion": _SCHEMA_VERSION,
                "uptime": int(now - self.core.started_at),
                "timestamp": int(now),
            }
        )

    async def connect_info(self, request: web.Request) -> web.Response:
        session = self._session(request, limited=False)
        base_url = f"{request.scheme}://{request.host}"
        return web.json_response(connect_info(self.core, session, base_url))

    async def address(self, request: web.Request) -> web.Response:
        wallet = self._wallet(request, self._session(request))
        return web.json_response(views.address(wallet))

    async def balance(self, request: web.Request) -> web.Response:
        wallet = self._wallet(request, self._session(request))
        self.core.lifecycle.advance()
        store = self.core.store
        if request.query.get("network") == "all":
            entries = [
                views.balance_entry(n, store.balance(wallet.id, n.name, NATIVE))
                for n in self.core.wallet_networks(wallet)
            ]
            return web.json_response(views.all_balances(wallet, entries))
        network = resolve_network(wallet, request.query.get("network"), for_send=False)
        amount = store.balance(wallet.id, network.name, NATIVE)
        return web.json_response(views.balance(wallet, network, amount))

    async def assets(self, request: web.Request) -> web.Response:
        wallet = self._wallet(request, self._session(request))
        self.core.lifecycle.advance()
        if request.query.get("network") == "all":
            per_network = [
                {"network": n.name, "assets": self._assets(wallet, n.name)}
                for n in self.core.wallet_networks(wallet)
            ]
            return web.json_response(views.all_assets(wallet, per_network))
        network = resolve_network(wallet, request.query.get("network"), for_send=False)
        return web.json_response(views.assets(wallet, network, self._assets(wallet, network.name)))

    def _assets(self, wallet: WalletRow, network_name: str) -> list[dict[str, Any]]:
        network, store = NETWORKS[network_name], self.core.store
        items = [views.native_asset(network, store.balance(wallet.id, network.name, NATIVE))]
        for token in self.core.tokens_on(network.name):
            amount = store.balance(wallet.id, network.name, token.address.lower())
            if amount:
                items.append(views.token_asset(network, token, amount))
        return items

    async def send(self, request: web.Request) -> web.Response:
        session = self._session(request)
        body = await _json_body(request)
        send = parse_send(self.core, session, body, request.query.get("walletId"))
        now = self.core.clock()
        tx = send.pending_row(
            self.core.new_id(), now, now + self.core.lifecycle.timings.pipeline_seconds
        )
        self.core.lifecycle.accept(tx)
        return web.json_response({"id": tx.id, "status": "PENDING"}, status=201)

    async def simulate(self, request: web.Request) -> web.Response:
        session = self._session(request)
        body = await _json_body(request)
        send = parse_send(
            self.core, session, body, request.query.get("walletId"), require_type=True
        )
        self.core.lifecycle.advance()
        return web.json_response(dry_run(self.core, send))

    async def get_transaction(self, request: web.Request) -> web.Response:
        self._session(request)
        return web.json_response(self._detail(self._tx(request)))

    async def list_transactions(self, request: web.Request) -> web.Response:
        wallet = self._wallet(request, self._session(request))
        limit = _limit(request.query.get("limit"))
        cursor = request.query.get("cursor") or None
        self.core.lifecycle.advance()
        rows = self.core.store.list_txs(wallet.id, limit + 1, cursor)
        has_more = len(rows) > limit
        rows = rows[:limit]
        return web.json_response(
            {
                "items": [self._detail(tx) for tx in rows],
                "cursor": rows[-1].id if has_more else None,
                "hasMore": has_more,
            }
        )

    async def pending(self, request: web.Request) -> web.Response:
        wallet = self._wallet(request, self._session(request))
        self.core.lifecycle.advance()
        rows = self.core.store.txs_with_status(wallet.id, ("PENDING", "QUEUED"))
        return web.json_response(
            {"items": [views.tx_pending_item(tx, _network(tx)) for tx in rows]}
        )

    async def cancel(self, request: web.Request) -> web.Response:
        session = self._session(request)
        tx = self._tx(request)
        if tx.wallet_id not in session.wallets:
            raise DaemonError(
                "WALLET_ACCESS_DENIED", f"Wallet '{tx.wallet_id}' is not linked to this session"
            )
        try:
            self.core.lifecycle.cancel(tx)
        except TransitionError:
            raise DaemonError(
                "TX_ALREADY_PROCESSED", f"Transaction '{tx.id}' is already {tx.status}"
            ) from None
        return web.json_response({"id": tx.id, "status": "CANCELLED"})

    async def renew(self, request: web.Request) -> web.Response:
        session, token, claims = self.core.sessions.authenticate(
            request.headers.get("Authorization")
        )
        renewed = self.core.sessions.renew(request.match_info["id"], session, token, claims)
        return web.json_response(renewed)


def _network(tx: TxRow) -> Network:
    return NETWORKS[tx.network]


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise DaemonError("INTERNAL_ERROR", "Malformed JSON in request body") from None


def _limit(value: str | None) -> int:
    if value is None:
        return 20
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise validation_error("limit", "Number must be between 1 and 100")
    return int(value)
