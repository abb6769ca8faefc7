"""`--http HOST:PORT`: liveness, readiness, Prometheus metrics, status and the status page
(aiohttp)."""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from runner.serve.page import PAGE_HEADERS, refresh_seconds, render_page
from runner.serve.status import serve_status

__all__ = ["HttpEndpoints"]

log = logging.getLogger("runner.serve")

_DAEMON_CHECK_SECONDS = 5.0  # readiness asks the daemon at most this often


class HttpEndpoints:
    """``GET /-/healthy``, ``/-/ready``, ``/metrics``, ``/status``, and ``/`` (the page)."""

    def __init__(self, serve: Any, host: str, port: int) -> None:
        self._serve = serve
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None
        self._daemon_ok: tuple[float, str | None] = (0.0, "not checked yet")
        app = web.Application()
        app.router.add_get("/-/healthy", self._healthy)
        app.router.add_get("/-/ready", self._ready)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/status", self._status)
        app.router.add_get("/", self._page)
        self._app = app

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if self.port == 0 and server is not None and server.sockets:  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        log.info(
            "http endpoints on http://%s:%d (/ status page, /metrics, /status, /-/ready)",
            f"[{self.host}]" if ":" in self.host else self.host,  # a URL one can open
            self.port,
        )

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthy(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _ready(self, request: web.Request) -> web.Response:
        problems = []
        serve = self._serve
        if not serve.scheduler.running or serve.stopping:
            problems.append("the scheduler is not running")
        try:
            serve.slot_log.writable()
        except sqlite3.Error as error:
            problems.append(f"the ledger is not writable: {error}")
        if (daemon := await self._daemon_problem()) is not None:
            problems.append(daemon)
        for session in serve.sessions.values():
            if session.transport.refused:
                problems.append(
                    f"the daemon at {session.url} refuses the session token "
                    f"({session.transport.refused}): replace it"
                )
        body = {"ready": not problems, "problems": problems}
        return web.json_response(body, status=503 if problems else 200)

    async def _daemon_problem(self) -> str | None:
        checked_at, problem = self._daemon_ok
        if time.monotonic() - checked_at < _DAEMON_CHECK_SECONDS:
            return problem
        problem = None
        for session in self._serve.sessions.values():
            try:
                response = await session.http.get(session.url.rstrip("/") + "/health")
                if response.status_code != 200:
                    problem = f"the daemon at {session.url} answered {response.status_code}"
            except Exception as error:  # any failure to reach it means not ready
                problem = f"the daemon at {session.url} is unreachable ({type(error).__name__})"
            if problem:
                break
        self._daemon_ok = (time.monotonic(), problem)
        return problem

    async def _metrics(self, request: web.Request) -> web.Response:
        self._serve.sync_metrics()
        body = self._serve.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(serve_status(self._serve))

    async def _page(self, request: web.Request) -> web.Response:
        generated_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._serve.options.clock()))
        page = render_page(
            serve_status(self._serve),
            refresh=refresh_seconds(request.query.get("refresh")),
            generated_at=generated_at,
        )
        return web.Response(text=page, content_type="text/html", headers=PAGE_HEADERS)
