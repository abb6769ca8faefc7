"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from runner.sandbox import Clock, Sandbox


@pytest.fixture(autouse=True, scope="session")
def _private_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands that fall back to the default ledger use one of the session's own, never the
    user's: a ledger left in ~/.local/share by another runner version (newer schema) made
    tests that do not name --state fail, and tests must not write into a person's ledger."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
        patch.delenv("WAIAAS_RUNNER_STATE", raising=False)
        yield


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
