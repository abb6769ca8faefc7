"""Edges of the pipeline's wait (issue #19).

A send queued for approval holds a wallet's later sends only while it signs: not while it
waits for the owner, and again once approved (EXECUTING).

When the daemon's answer about an earlier send is not an answer (an HTML page, a body
that is not a transaction, a cut or closed connection, a gateway error after every retry),
it cannot say whether the earlier send left signing: the step fails (exit 1) with a clear
reason — never a traceback, never the token — nothing is posted and no intent is written;
once the daemon answers again, the same run sends. The bad answers come through the
mangling proxy, against the sandbox with the race on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from runner.engine.pipeline import LAST_POLL
from runner.engine.results import StepStatus
from runner.sandbox import Clock, Sandbox
from tests.exactly_once.proxy import (
    Answer,
    ManglingProxy,
    Rule,
    closed,
    cut_short,
    json_error,
    replace_with,
)
from tests.exactly_once.sequencing import START, FrozenWorld, output, sends_body

HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
ANSWERS: dict[str, Answer] = {
    "html-200": replace_with(200, HTML, "text/html"),
    "html-502": replace_with(502, HTML, "text/html"),
    "json-no-status": json_error(200, {"id": "01a2", "walletId": "w"}),
    "json-status-number": json_error(200, {"id": "01a2", "status": 42}),
    "json-list": json_error(200, []),
    "empty-200": replace_with(200, b""),
    "truncated": cut_short,
    "closed": closed,
}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[FrozenWorld]:
    async with Sandbox(port=0, clock=Clock(frozen=START)) as sandbox:
        yield FrozenWorld(tmp_path, sandbox)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
async def test_a_bad_answer_during_the_wait_posts_nothing(world: FrozenWorld, answer: str) -> None:
    first, _ = await world.run(sends_body(1), "first")  # PENDING: the frozen clock holds it
    assert first.exit_code == 0
    earlier = output(first, "pay_0")["id"]
    port = urlsplit(world.sandbox.url).port
    assert port is not None
    async with ManglingProxy(port) as proxy:
        proxy.rules.append(Rule("GET", "/v1/transactions/*", ANSWERS[answer], times=1000))
        second, reporter = await world.run(sends_body(1), "second", daemon_url=proxy.url)
        assert proxy.mangled  # the wait did ask, and heard only the bad answer

    assert second.exit_code == 1
    step = second.steps[0]
    assert step.status is StepStatus.FAILED
    reason = step.reason or ""
    assert f"cannot tell whether earlier transaction {earlier} is past signing" in reason
    assert "this send was not posted (nothing was sent)" in reason
    assert "Traceback" not in reason and world.sandbox.token not in reason
    assert all(world.sandbox.token not in message for _, message in reporter.logs)
    assert step.output.get("sent") is not True
    assert world.sandbox.transaction_count() == 1
    assert world.sends("second") == []  # stopped before its intent

    again, _ = await world.run(sends_body(1), "second")  # the daemon answers again
    assert again.exit_code == 0
    assert output(again, "pay_0")["pipeline"]["after"] in ([], [earlier])
    assert [tx.status for tx in world.txs()] == ["CONFIRMED"] * 2


async def test_a_send_queued_for_approval_holds_later_sends_only_while_it_signs(
    world: FrozenWorld,
) -> None:
    """QUEUED is past signing: a later send does not wait for the owner (it would wait for
    ever). Once the owner approves, the queued send signs (EXECUTING): a send posted then
    waits for it, and both confirm."""
    held_run, _ = await world.run(sends_body(1, "0.5 ETH"), "held")  # APPROVAL tier
    held = output(held_run, "pay_0")["id"]
    later, _ = await world.run(sends_body(1), "later")
    assert later.exit_code == 0
    pipeline = output(later, "pay_0")["pipeline"]
    assert pipeline["after"] == [held]  # it was still PENDING (signing its way to QUEUED)
    assert Decimal(str(pipeline["waited"])) <= Decimal("0.2")  # one turn, not the owner's hour
    assert world.sandbox.core.store.tx(held).status == "QUEUED"  # type: ignore[union-attr]

    world.sandbox.advance(0.1)  # the later send has signed
    world.sandbox.approve(held)  # the owner: EXECUTING for the fixture's 0.2 s
    assert world.sandbox.core.store.tx(held).status == "EXECUTING"  # type: ignore[union-attr]
    after, _ = await world.run(sends_body(1), "after")
    assert after.exit_code == 0
    pipeline = output(after, "pay_0")["pipeline"]
    assert pipeline["after"] == [held]
    assert Decimal("0.2") <= Decimal(str(pipeline["waited"])) <= Decimal("0.4")
    txs = world.txs()
    # the later 0.001 ETH was posted while 0.5 ETH was held QUEUED: the daemon adds what
    # queued sends hold to its tier, so it waits for the owner too (recorded, Part C)
    assert [(tx.id, tx.status) for tx in txs] == [
        (held, "CONFIRMED"),
        (output(later, "pay_0")["id"], "QUEUED"),
        (output(after, "pay_0")["id"], "CONFIRMED"),
    ]


async def test_a_long_wait_polls_well_within_the_session_limiter(world: FrozenWorld) -> None:
    """A daemon that takes two minutes to sign: the next send's wait (100 s here) asks
    about the earlier send at most about once a second — never near the daemon's 300
    requests a minute per session, so no 429 (whose Retry-After the client would sleep:
    every sleep here is a poll interval)."""
    world.sandbox.set_signing(pipeline_seconds=120)
    await world.run(sends_body(1), "slow")
    world.sleeps.clear()
    late, _ = await world.run(sends_body(1), "late", pipeline_timeout=100.0)
    assert late.exit_code == 1  # still signing after 100 s: not posted
    assert world.sandbox.transaction_count() == 1
    polls, elapsed, busiest = 1, 0.0, 0  # the first poll comes before any sleep
    window: list[float] = [0.0]
    for seconds in world.sleeps:
        assert seconds <= LAST_POLL
        elapsed += seconds
        polls += 1
        window = [t for t in [*window, elapsed] if t > elapsed - 60]
        busiest = max(busiest, len(window))
    assert 95 <= elapsed <= 101
    assert busiest <= 70  # polls in any minute, against the limiter's 300
    assert polls <= 110


@pytest.mark.parametrize("status", [200, 400, 502])
async def test_a_page_that_echoes_the_token_during_the_wait_never_shows_it(
    world: FrozenWorld, status: int
) -> None:
    """Some proxies echo the request's headers in their error pages."""
    first, _ = await world.run(sends_body(1), "first")
    assert first.exit_code == 0
    token = world.sandbox.token
    page = f"<html><pre>GET /v1/transactions\nAuthorization: Bearer {token}</pre></html>"
    port = urlsplit(world.sandbox.url).port
    assert port is not None
    async with ManglingProxy(port) as proxy:
        echo = replace_with(status, page.encode(), "text/html")
        proxy.rules.append(Rule("GET", "/v1/transactions/*", echo, times=1000))
        second, reporter = await world.run(sends_body(1), "second", daemon_url=proxy.url)
    assert second.exit_code == 1
    assert world.sandbox.transaction_count() == 1
    shown = [second.steps[0].reason or "", *(message for _, message in reporter.logs)]
    shown.append(str(second.steps[0].output))
    assert all(token not in text and token[9:] not in text for text in shown)
