"""The pipeline's wait (issue #19) when the daemon's answer about an earlier send is not an
answer: an HTML page, a body that is not a transaction, a cut or closed connection, a
gateway error after every retry. The daemon cannot say whether the earlier send left
signing, so the step fails (exit 1) with a clear reason — never a traceback, never the
token — nothing is posted and no intent is written; once the daemon answers again, the
same run sends. Through the mangling proxy, against the sandbox with the race on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

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
