"""Time and ids for the sandbox.

Every timestamp the sandbox stores or compares comes from one clock, so tests can move
time forward instead of sleeping (DELAY cooldowns, token expiry, renewal windows,
rate-limit windows, approval timeouts).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable


class Clock:
    """Seconds since the epoch from ``source`` plus an offset that only grows.

    ``Clock()`` follows the wall clock; ``Clock(frozen=1_800_000_000)`` stands still until
    :meth:`advance` is called, which is what deterministic tests want.
    """

    def __init__(
        self, source: Callable[[], float] = time.time, *, frozen: float | None = None
    ) -> None:
        self._source: Callable[[], float] = source
        if frozen is not None:
            self._source = lambda: frozen
        self._offset = 0.0

    def __call__(self) -> float:
        return self._source() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += seconds
        return self()


class Uuid7Factory:
    """UUIDv7 ids (what the daemon uses) that sort in creation order.

    Within one millisecond, or when a frozen clock does not move, the 12-bit counter
    field keeps ids increasing, so "newest first" ordering by id stays exact.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last_ms = 0
        self._counter = 0

    def seed(self, newest_id: str | None) -> None:
        """Continue after the newest id already stored (a restarted sandbox)."""
        if newest_id:
            value = uuid.UUID(newest_id).int
            self._last_ms = value >> 80
            self._counter = (value >> 64) & 0xFFF

    def __call__(self) -> str:
        now_ms = int(self._clock() * 1000)
        if now_ms > self._last_ms:
            self._last_ms, self._counter = now_ms, int.from_bytes(os.urandom(1), "big")
        else:
            self._counter += 1
            if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                self._last_ms, self._counter = self._last_ms + 1, 0
        random_tail = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (
            (self._last_ms << 80) | (0x7 << 76) | (self._counter << 64) | (0b10 << 62) | random_tail
        )
        return str(uuid.UUID(int=value))
