"""Another client of the daemon sends the same transfer; then the runner's request is lost.

The runner's own send never reaches the daemon (a proxy answers 502 in its place), so
reconciliation finds only the other client's identical transfer. It was made before the
runner's intent, so it is never adopted: made seconds earlier, it is ignored and the
runner sends its own; made a moment earlier (too close to tell), a person must look.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

import runner.engine.launch
from runner.client import WAIaaSClient
from runner.engine.results import ExitCode
from runner.ledger import Ledger, SendState
from tests.exactly_once.conftest import Harness, no_wait, reason
from tests.exactly_once.proxy import ManglingProxy, Rule, replace_with

PLAYBOOK = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""


@pytest.fixture
def lost(proxy: ManglingProxy) -> ManglingProxy:
    """The runner's first send is lost before it reaches the daemon."""
    proxy.rules.append(Rule("POST", "/v1/transactions/send", replace_with(502, b""), forward=False))
    return proxy


async def _other_client_sends(harness: Harness) -> str:
    treasury, agent = harness.sandbox.wallet("treasury"), harness.sandbox.wallet("agent")
    async with WAIaaSClient(harness.sandbox.url, harness.sandbox.token) as other:
        sent = await other.send_token(
            agent["address"], 10**15, network="ethereum-sepolia", wallet_id=treasury["id"]
        )
    return sent.id


def _ledger_later_by(seconds: float) -> Callable[..., Ledger]:
    """The runner's intents are written ``seconds`` after the other client's transfer (the
    run's own clock, which launch passes to the ledger, is replaced for the ledger only)."""

    def opened(path: Path, **_: object) -> Ledger:
        return Ledger(path, clock=lambda: time.time() + seconds)

    return opened


@pytest.mark.parametrize("before", [5.0, 29.0])
async def test_a_transfer_made_seconds_before_the_intent_is_not_adopted(
    harness: Harness, lost: ManglingProxy, monkeypatch: pytest.MonkeyPatch, before: float
) -> None:
    theirs = await _other_client_sends(harness)
    monkeypatch.setattr(runner.engine.launch, "Ledger", _ledger_later_by(before))
    result, _ = await harness.run(PLAYBOOK, daemon_url=lost.url, sleep=no_wait)

    assert result.exit_code is ExitCode.OK, reason(result, "fund")
    assert harness.tx_count() == 2  # theirs, and the runner's own (posted once more)
    [send] = harness.sends()
    assert send.state is SendState.ACCEPTED and send.tx_id not in (None, theirs)
    assert lost.mangled == ["POST /v1/transactions/send"]


async def test_a_transfer_made_just_before_the_intent_needs_a_person(
    harness: Harness, lost: ManglingProxy, tmp_path: Path
) -> None:
    theirs = await _other_client_sends(harness)  # a moment before the runner's intent
    result, _ = await harness.run(PLAYBOOK, daemon_url=lost.url, sleep=no_wait)

    assert result.exit_code is ExitCode.UNKNOWN_SEND
    assert harness.tx_count() == 1  # only theirs: the runner neither adopted nor re-sent
    [send] = harness.sends()
    assert send.state is SendState.UNKNOWN and send.tx_id is None
    said = reason(result, "fund")
    assert theirs in said and "another client" in said and "waiaas-run resolve" in said
