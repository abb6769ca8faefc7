"""A local webhook receiver that keeps every JSON event posted to it (one per test run)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from aiohttp import web

__all__ = ["WebhookReceiver"]


class WebhookReceiver:
    def __init__(self) -> None:
        self.url = ""
        self.events: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        try:
            event = await request.json()
        except ValueError:
            event = {"unreadable": await request.text()}
        self.events.append(event if isinstance(event, dict) else {"body": event})
        return web.Response(text="ok")

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hook", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def take(self) -> list[dict[str, Any]]:
        """The events received since the last call."""
        events, self.events = self.events, []
        return events
