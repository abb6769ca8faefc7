"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from runner.sandbox import Clock, Sandbox


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The sandbox daemon on 127.0.0.1, a free port, in this process, with the default fixture.

    Use ``sandbox.url``, ``sandbox.token``, ``sandbox.session_id``, ``sandbox.wallets`` /
    ``sandbox.wallet("treasury")``; control it with ``sandbox.approve(tx_id)``,
    ``sandbox.add_fault("POST /v1/transactions/send drop times=1")``,
    ``sandbox.advance(seconds)`` (its clock follows wall time and can be pushed forward),
    ``sandbox.create_session(ttl=...)``, ``sandbox.set_rate_limits(False)``.
    """
    async with Sandbox(port=0, clock=Clock()) as running:
        yield running
