"""The daemon's in-memory sliding 60-second rate limits (waiaas-api.md §5.3).

Three limiters: per IP on every path (1000/min), per session on /v1/wallet/* and
/v1/transactions* (300/min), and per session on the exact path /v1/transactions, i.e.
the transaction list (10/min). A refused call answers 429 with ``Retry-After`` = the
seconds until the oldest counted call leaves the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from runner.sandbox.fixture import RateLimits

WINDOW = 60.0


class RateLimited(Exception):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class SlidingWindow:
    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, message: str) -> None:
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - WINDOW:
            hits.popleft()
        if len(hits) >= self.limit:
            raise RateLimited(message, hits[0] + WINDOW - now)
        hits.append(now)


class RateLimiter:
    def __init__(self, config: RateLimits, clock: Callable[[], float]) -> None:
        self.enabled = config.enabled
        self._ip = SlidingWindow(config.ip_per_minute, clock)
        self._session = SlidingWindow(config.session_per_minute, clock)
        self._tx = SlidingWindow(config.tx_list_per_minute, clock)

    def check_ip(self, forwarded_for: str | None, real_ip: str | None) -> None:
        if not self.enabled:
            return
        # Like the daemon: without proxy headers every local caller shares one bucket.
        key = (forwarded_for or "").split(",")[0].strip() or real_ip or "unknown"
        self._ip.hit(key, "IP rate limit exceeded")

    def check_session(self, session_id: str, path: str) -> None:
        if not self.enabled:
            return
        if path.startswith(("/v1/wallet/", "/v1/transactions")):
            self._session.hit(session_id, "Session rate limit exceeded")
        if path == "/v1/transactions":
            self._tx.hit(session_id, "Transaction rate limit exceeded")
