"""Pacing every request below the daemon's rate limits, and saying when it is not enough.

The daemon counts requests in sliding 60-second windows: 1,000 a minute per client IP
(every local client shares one bucket), 300 a minute per session on the wallet and
transaction paths, 10 a minute per session on the transaction list (waiaas-api.md §5.3).
Serve mirrors each of those windows with the ``limits`` library's moving window (the same
algorithm), at ``headroom`` of the daemon's number, and a request leaves only when every
window it counts in has room; its hits are recorded as it leaves. So a burst (800
playbooks on the same minute) goes out at once when the window allows it, and a 429 is not
provoked; one that still comes is counted and honoured by the client (``Retry-After``).

Requests wait their turn (first come, first served per session), they are never dropped:
when the schedules ask for more than the budget, runs start late and serve says so.

The same transport is where a draining serve refuses to start new sends, and where the
session's wallet list (``/v1/connect-info``) is kept once per process.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

import httpx
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from runner.client import outside_deadline

__all__ = [
    "CURRENT_RUN",
    "DRAIN_MESSAGE",
    "Budget",
    "DaemonLimits",
    "PacedTransport",
    "RunMeter",
    "TransportCounters",
]

log = logging.getLogger("runner.serve")

SEND_PATH = "/v1/transactions/send"
TX_LIST_PATH = "/v1/transactions"
CONNECT_INFO_PATH = "/v1/connect-info"
SESSION_PATHS = ("/v1/wallet/", "/v1/transactions")


@dataclass
class RunMeter:
    """What one run's requests cost: how many, how long the first waited for budget, and
    when (wall clock) the first left."""

    requests: int = 0
    first_wait: float = 0.0
    first_sent_at: float | None = None
    clock: Callable[[], float] = time.time  # serve's clock (tests inject one)


# the run that sends the current request (set by serve around each run)
CURRENT_RUN: ContextVar[RunMeter | None] = ContextVar("waiaas_serve_run", default=None)
DRAIN_MESSAGE = "waiaas-run serve is stopping: this send was not posted"
# Codes after which the cached wallet list may be stale (a wallet renamed, relinked, gone).
_STALE_WALLET_CODES = (b"WALLET_ACCESS_DENIED", b"WALLET_NOT_FOUND")


@dataclass(frozen=True)
class DaemonLimits:
    """The daemon's configured limits, per minute (its defaults)."""

    ip_per_minute: int = 1000
    session_per_minute: int = 300
    tx_list_per_minute: int = 10
    headroom: float = 0.95  # the share of each limit serve allows itself

    def allowed(self, limit: int) -> int:
        """Requests serve sends in any 60 s where the daemon allows ``limit``."""
        return max(1, int(limit * self.headroom))


@dataclass
class TransportCounters:
    requests: int = 0
    rate_limited: int = 0  # 429 answers (should stay 0)
    waited_seconds: float = 0.0  # total time requests waited for budget
    connect_info_cached: int = 0  # wallet-list requests answered from the cache
    refused_sends: int = 0  # sends refused while draining


class Budget:
    """The daemon's windows, mirrored: one per IP (shared), two per session."""

    def __init__(self, limits: DaemonLimits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        # the asyncio storage: the threaded one starts a timer thread for most hits
        self._windows = MovingWindowRateLimiter(MemoryStorage())
        self._ip = RateLimitItemPerMinute(limits.allowed(limits.ip_per_minute))
        self._session = RateLimitItemPerMinute(limits.allowed(limits.session_per_minute))
        self._tx_list = RateLimitItemPerMinute(limits.allowed(limits.tx_list_per_minute))
        self._queues: dict[tuple[str, bool], asyncio.Lock] = {}
        self._clock = clock
        self.counters = TransportCounters()
        self.draining = False

    def per_minute(self, sessions: int) -> float:
        """What all sessions together may spend a minute: the IP budget caps the sum."""
        per_session = self.limits.allowed(self.limits.session_per_minute) * max(1, sessions)
        return float(min(self.limits.allowed(self.limits.ip_per_minute), per_session))

    async def spend(self, session: str | None, tx_list: bool) -> float:
        """Wait until one more request fits every window it counts in, then count it;
        returns the seconds waited."""
        windows = [(self._ip, "ip")]
        if session is not None:
            windows.append((self._session, session))
            if tx_list:
                windows.append((self._tx_list, session))
        queue = self._queues.setdefault((session or "", tx_list), asyncio.Lock())
        started = self._clock()
        waited = queue.locked()
        async with queue:  # first come, first served
            while True:
                full = [w for w in windows if not await self._windows.test(*w)]
                # counted together when every window has room; should another queue take
                # the last place meanwhile, a hit fails and this one waits (stricter, safe)
                if not full and all([await self._windows.hit(*w) for w in windows]):
                    return self._clock() - started if waited else 0.0
                waited = True
                resets = [(await self._windows.get_window_stats(*w)).reset_time for w in full]
                await asyncio.sleep(min(60.0, max(0.005, max(resets, default=0) - self._clock())))


class PacedTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport of one session's connection pool."""

    def __init__(
        self,
        budget: Budget,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._budget = budget
        # Few connections, all kept alive: httpcore scans every pooled connection on each
        # request, and more than the runs in flight buys nothing on a local daemon.
        self._inner = inner or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32)
        )
        self._session_ids: dict[str, str] = {}
        self._connect_info: tuple[int, dict[str, str], bytes] | None = None
        self._connect_info_turn = asyncio.Lock()
        # the daemon's last word on the session token: a 401 (revoked, expired) until a
        # later answer succeeds -- every run of the session fails meanwhile
        self.refused: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        budget = self._budget
        path = request.url.path
        if budget.draining and request.method == "POST" and path == SEND_PATH:
            budget.counters.refused_sends += 1
            return _refused_while_draining(request)
        if request.method == "GET" and path == CONNECT_INFO_PATH:
            async with self._connect_info_turn:  # runs starting together fetch it once
                if self._connect_info is not None:
                    budget.counters.connect_info_cached += 1
                    status, headers, body = self._connect_info
                    return httpx.Response(status, headers=headers, content=body, request=request)
                return await self._send(request, budget, path)
        return await self._send(request, budget, path)

    async def _send(self, request: httpx.Request, budget: Budget, path: str) -> httpx.Response:
        session = self._session_of(request) if path.startswith(SESSION_PATHS) else None
        with outside_deadline():  # nothing has left yet: the call's deadline waits too
            waited = await budget.spend(session, path == TX_LIST_PATH)
        budget.counters.waited_seconds += waited
        if (meter := CURRENT_RUN.get()) is not None:
            if not meter.requests:
                meter.first_wait, meter.first_sent_at = waited, meter.clock()
            meter.requests += 1
        budget.counters.requests += 1
        response = await self._inner.handle_async_request(request)
        if response.status_code == 401:
            if self.refused is None:
                log.error(
                    "the daemon at %s refused the session token (HTTP 401 to %s %s): every "
                    "run of this session fails until the token is replaced",
                    f"{request.url.scheme}://{request.url.netloc.decode()}",
                    request.method,
                    path,
                    extra={"fields": {"event": "session_refused"}},
                )
            self.refused = f"HTTP 401 to {request.method} {path}"
        elif (
            response.is_success and self.refused is not None and "authorization" in request.headers
        ):
            log.info("the daemon accepts the session token again")
            self.refused = None
        if response.status_code == 429:
            budget.counters.rate_limited += 1
            log.warning("the daemon answered 429 to %s %s despite pacing", request.method, path)
        if request.method == "GET" and path == CONNECT_INFO_PATH and response.status_code == 200:
            body = await response.aread()
            self._connect_info = (200, _decoded_headers(response), body)
            return httpx.Response(200, headers=self._connect_info[1], content=body, request=request)
        if response.status_code in (403, 404) and self._connect_info is not None:
            body = await response.aread()
            if any(code in body for code in _STALE_WALLET_CODES):
                self._connect_info = None  # the next run resolves wallet names again
            return httpx.Response(
                response.status_code,
                headers=_decoded_headers(response),
                content=body,
                request=request,
            )
        return response

    @property
    def connect_info_answer(self) -> object | None:
        """The cached wallet-list answer (a new object each time it is fetched again)."""
        return self._connect_info

    def forget_wallets(self) -> None:
        """Resolve wallet names again on the next run (a reload, a renewed session)."""
        self._connect_info = None

    def _session_of(self, request: httpx.Request) -> str:
        bearer = request.headers.get("authorization", "")
        if bearer not in self._session_ids:
            self._session_ids[bearer] = _session_claim(bearer)
        return self._session_ids[bearer]

    async def aclose(self) -> None:
        await self._inner.aclose()


def _decoded_headers(response: httpx.Response) -> dict[str, str]:
    """The headers of an answer whose body was read (decoded): a copy must not claim a
    compression or a length that no longer applies."""
    stale = {"content-encoding", "content-length", "transfer-encoding"}
    return {name: value for name, value in response.headers.items() if name.lower() not in stale}


def _session_claim(bearer: str) -> str:
    """The session id (``sub``) of a ``Bearer wai_sess_<JWT>``; the token itself if the
    claim cannot be read (then the bucket is per token, which is at worst stricter)."""
    try:
        payload = bearer.rsplit("wai_sess_", 1)[1].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["sub"])
    except (IndexError, ValueError, KeyError, TypeError):
        return bearer


def _refused_while_draining(request: httpx.Request) -> httpx.Response:
    # The daemon's own error shape with its own code for "not accepting work": the client
    # then knows for certain that nothing was created, marks the send not_sent, and the
    # run ends in a recorded state. Nothing left this process.
    body = {
        "code": "SHUTTING_DOWN",
        "message": f"{DRAIN_MESSAGE} (the next start continues this slot's run and posts it)",
        "requestId": "waiaas-runner-drain",
        "retryable": False,
    }
    return httpx.Response(503, json=body, request=request)
