"""One deadline for a whole HTTP call, and a way for a transport to wait outside it.

The client gives every call one deadline (connect, write and every byte of the answer).
A transport that first waits its turn for the daemon's rate budget (serve's pacing) has
sent nothing yet while it waits: that wait must not eat the call's deadline, or a request
queued behind a full budget window would time out (and be retried, or a send fail) before
it ever left. :func:`outside_deadline` stops the clock of the current call meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar

__all__ = ["call_deadline", "outside_deadline"]

_CURRENT: ContextVar[asyncio.Timeout | None] = ContextVar("waiaas_call_deadline", default=None)


@contextlib.asynccontextmanager
async def call_deadline(seconds: float) -> AsyncIterator[None]:
    """``asyncio.timeout(seconds)`` that :func:`outside_deadline` can pause."""
    async with asyncio.timeout(seconds) as deadline:
        token = _CURRENT.set(deadline)
        try:
            yield
        finally:
            _CURRENT.reset(token)


@contextlib.contextmanager
def outside_deadline() -> Iterator[None]:
    """Time spent inside does not count against the current call's deadline (nothing of
    the request may have been sent inside: the deadline is about the daemon answering)."""
    deadline = _CURRENT.get()
    when = None if deadline is None or deadline.expired() else deadline.when()
    if deadline is None or when is None:
        yield
        return
    loop = asyncio.get_running_loop()
    remaining = when - loop.time()
    deadline.reschedule(None)
    try:
        yield
    finally:
        deadline.reschedule(loop.time() + max(0.0, remaining))
