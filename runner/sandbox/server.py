"""`Sandbox`: start the stand-in daemon on a real socket, as an async context manager.

    async with Sandbox(port=0) as sandbox:
        client = WAIaaSClient(sandbox.url, sandbox.token)
        ...
        sandbox.approve(tx_id)          # in-process controls, same as /_sandbox/...

A short background tick moves transactions on even when nobody reads them; every read
also catches up, so the tick's period never shows in what clients see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from runner.sandbox.app import build_app
from runner.sandbox.clock import Clock
from runner.sandbox.control import set_signing
from runner.sandbox.core import SandboxCore
from runner.sandbox.faults import FaultRule, parse_fault
from runner.sandbox.fixture import Fixture, SessionSpec, load_fixture
from runner.sandbox.lifecycle import TransitionError

_log = logging.getLogger(__name__)


class Sandbox:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state: str | Path | None = None,
        fixture: Fixture | str | Path | None = None,
        clock: Callable[[], float] | None = None,
        rate_limits: bool | None = None,
        signing_race: bool | None = None,
        pipeline_seconds: float | None = None,
        faults: Sequence[FaultRule | str] = (),
        tick_seconds: float = 0.05,
    ) -> None:
        loaded = fixture if isinstance(fixture, Fixture) else load_fixture(fixture)
        if rate_limits is not None:
            limits = loaded.rate_limits.model_copy(update={"enabled": rate_limits})
            loaded = loaded.model_copy(update={"rate_limits": limits})
        if signing_race is not None:
            loaded = loaded.model_copy(update={"signing_race": signing_race})
        if pipeline_seconds is not None:
            timings = loaded.timings.model_copy(update={"pipeline_seconds": pipeline_seconds})
            loaded = loaded.model_copy(update={"timings": timings})
        self.host = host
        self._port = port
        self._state = state
        self._fixture = loaded
        self.clock: Callable[[], float] = clock if clock is not None else Clock()
        self._extra_faults = [parse_fault(f) if isinstance(f, str) else f for f in faults]
        self._tick_seconds = tick_seconds
        self._core: SandboxCore | None = None
        self._runner: web.AppRunner | None = None
        self._tick: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self.url = ""

    # -- start / stop -----------------------------------------------------------------
    async def start(self) -> Sandbox:
        try:
            return await self._start()
        except BaseException:
            await self.close()  # a port in use must not leave the state file open
            raise

    async def _start(self) -> Sandbox:
        core = SandboxCore(self._fixture, self._state, self.clock)
        for rule in self._extra_faults:
            core.faults.add(rule)
        self._core = core
        self._closing = asyncio.Event()
        self._runner = web.AppRunner(
            build_app(core, self._closing),
            handler_cancellation=True,
            access_log=None,
            shutdown_timeout=1.0,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        shown_host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        self.url = f"http://{shown_host}:{port}"
        self._tick = asyncio.create_task(self._run_tick())
        return self

    async def close(self) -> None:
        self._closing.set()  # releases requests held by a "hang" fault
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick
            self._tick = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._core is not None:
            self._core.close()
            self._core = None

    async def __aenter__(self) -> Sandbox:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run_tick(self) -> None:
        while True:
            try:
                self.core.lifecycle.advance()
            except Exception:  # a bad row must not stop the sandbox; reads still advance
                _log.exception("sandbox tick failed")
            await asyncio.sleep(self._tick_seconds)

    def __repr__(self) -> str:
        return f"Sandbox(url={self.url!r}, state={self._state!r})"  # never the token

    # -- what tests and the CLI read --------------------------------------------------
    @property
    def core(self) -> SandboxCore:
        if self._core is None:
            raise RuntimeError("the sandbox is not running")
        return self._core

    @property
    def token(self) -> str:
        return self.core.ready.token

    @property
    def session_id(self) -> str:
        return self.core.ready.id

    @property
    def wallets(self) -> list[dict[str, str]]:
        wallets: list[dict[str, str]] = self.core.ready_line(self.url)["wallets"]
        return wallets

    def wallet(self, name: str) -> dict[str, str]:
        return next(w for w in self.wallets if w["name"] == name)

    def ready_line(self) -> dict[str, Any]:
        return self.core.ready_line(self.url)

    # -- in-process controls (the same things /_sandbox/... does over HTTP) -----------
    def advance(self, seconds: float) -> float:
        """Move a controllable clock forward and take every step that became due."""
        if not isinstance(self.clock, Clock):
            raise TypeError("this sandbox runs on a clock it cannot move")
        now = self.clock.advance(seconds)
        self.core.lifecycle.advance()
        return now

    def approve(self, tx_id: str) -> None:
        self._with_tx(tx_id, self.core.lifecycle.approve)

    def reject(self, tx_id: str) -> None:
        self._with_tx(tx_id, self.core.lifecycle.reject)

    def _with_tx(self, tx_id: str, action: Callable[[Any], None]) -> None:
        self.core.lifecycle.advance()
        tx = self.core.store.tx(tx_id)
        if tx is None:
            raise KeyError(tx_id)
        action(tx)

    def add_fault(self, rule: FaultRule | str) -> int:
        return self.core.faults.add(parse_fault(rule) if isinstance(rule, str) else rule)

    def clear_faults(self) -> None:
        self.core.faults.clear()

    def set_stuck(self, address: str, stuck: bool = True) -> None:
        self.core.lifecycle.set_stuck(address, stuck)

    def set_rate_limits(self, enabled: bool) -> None:
        self.core.limiter.enabled = enabled

    def set_signing(
        self, *, race: bool | None = None, pipeline_seconds: float | None = None
    ) -> None:
        """Switch the signing race, and/or set how long a new send signs (PENDING)."""
        self.core.lifecycle.advance()
        set_signing(self.core, race=race, pipeline_seconds=pipeline_seconds)

    def create_session(
        self,
        wallets: Sequence[str] | None = None,
        *,
        ttl: int | None = None,
        max_renewals: int = 0,
        absolute_lifetime: int = 0,
    ) -> tuple[str, str]:
        """A new session (id, token) linked to the named wallets (default: all)."""
        names = list(wallets) if wallets else [w.name for w in self.core.wallets.values()]
        session, token = self.core.create_session(
            SessionSpec(
                wallets=names,
                ttl=ttl,
                max_renewals=max_renewals,
                absolute_lifetime=absolute_lifetime,
            )
        )
        return session.id, token

    def revoke_session(self, session_id: str) -> None:
        if not self.core.sessions.revoke(session_id):
            raise KeyError(session_id)

    def transaction_count(self, wallet_id: str | None = None) -> int:
        self.core.lifecycle.advance()
        return sum(self.core.store.count_txs(wallet_id).values())


__all__ = ["Sandbox", "TransitionError"]
