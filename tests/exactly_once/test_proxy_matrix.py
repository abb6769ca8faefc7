"""A proxy between the runner and the daemon mangles the answer to a send the daemon created.

Every case forwards the send to the sandbox (which inserts the transaction) and then
replaces what the runner hears. Whatever it hears, the run ends 0 (the transaction was
found and adopted) or 3 (a person must look), the ledger never says ``not_sent`` (that
would let the send be posted again), and ``--resume`` never makes a second transaction.
The daemon's own refusals, through the same proxy, still count as "nothing inserted".
"""

from __future__ import annotations

import pytest

from runner.engine.results import ExitCode
from runner.errors import UsageError
from runner.ledger import SendState
from tests.client.recorded_errors import RECORDED_ERRORS
from tests.exactly_once.conftest import Harness, no_wait, reason
from tests.exactly_once.proxy import (
    Answer,
    ManglingProxy,
    Rule,
    closed,
    cut_short,
    dribbled,
    json_error,
    replace_with,
)

PLAYBOOK = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""
SEND = ("POST", "/v1/transactions/send")
LIST = ("GET", "/v1/transactions")
# scaled down for the dribbled answer (about 3.5 s in all), which outlasts it as it would a
# 30 s timeout; the other answers end at once and keep the default
DRIBBLE_TIMEOUT = 1.0
HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"

ANSWERS: dict[str, Answer] = {
    "json-502-gateway": json_error(
        502, {"code": "BAD_GATEWAY", "message": "upstream connection reset"}
    ),
    "json-502-daemon-fields": json_error(
        502,
        {"code": "BAD_GATEWAY", "message": "reset", "requestId": "gw-1", "retryable": True},
    ),
    "json-503-numeric-code": json_error(503, {"code": 503, "message": "Service Unavailable"}),
    "json-503-known-code-wrong-status": json_error(
        503, {"code": "CHAIN_ERROR", "message": "x", "requestId": "gw-2", "retryable": True}
    ),
    "json-504-error-key": json_error(504, {"error": "upstream request timeout"}),
    "json-504-known-code-no-request-id": json_error(
        504, {"code": "TRANSACTION_TIMEOUT", "message": "timed out", "retryable": True}
    ),
    "html-502": replace_with(502, HTML, "text/html"),
    "html-200": replace_with(200, HTML, "text/html"),
    "empty-502": replace_with(502, b""),
    "empty-504": replace_with(504, b"", "text/plain"),
    "truncated-201": cut_short,
    "dribbled-201": dribbled(every=0.05),
    "closed": closed,
}


@pytest.mark.parametrize("list_readable", [True, False], ids=["list-ok", "list-refused"])
@pytest.mark.parametrize("answer", list(ANSWERS))
async def test_a_mangled_answer_to_a_created_send(
    harness: Harness, proxy: ManglingProxy, answer: str, list_readable: bool
) -> None:
    if answer == "dribbled-201":
        harness.client_timeout = DRIBBLE_TIMEOUT
    proxy.rules.append(Rule(*SEND, ANSWERS[answer]))
    if not list_readable:  # reconciliation cannot read the list either: nothing decides
        proxy.rules.append(Rule(*LIST, replace_with(503, HTML, "text/html"), times=99))
    path = harness.write(PLAYBOOK)
    first, _ = await harness.run_file(path, daemon_url=proxy.url, sleep=no_wait)

    assert proxy.mangled[0] == "POST /v1/transactions/send"
    assert harness.tx_count() == 1  # the daemon created it; the runner never posted again
    [send] = harness.sends()
    assert send.state is not SendState.NOT_SENT
    if list_readable:
        assert first.exit_code is ExitCode.OK, reason(first, "fund")
        assert send.state is SendState.ACCEPTED and [send.tx_id] == harness.tx_ids()
        assert send.note is not None and send.note.startswith("adopted")
    else:
        assert first.exit_code is ExitCode.UNKNOWN_SEND
        assert send.state is SendState.UNKNOWN
        said = reason(first, "fund")
        assert "waiaas-run resolve" in said and "Traceback" not in said

    # --resume, with the proxy still mangling every send and the list readable again
    proxy.rules[:] = [Rule(*SEND, ANSWERS[answer], times=99)]
    if first.exit_code is ExitCode.OK:
        with pytest.raises(UsageError, match="no unfinished run"):
            await harness.run_file(path, daemon_url=proxy.url, sleep=no_wait, resume=True)
    else:
        resumed, _ = await harness.run_file(path, daemon_url=proxy.url, sleep=no_wait, resume=True)
        assert resumed.exit_code is ExitCode.UNKNOWN_SEND  # still a person's to settle
    assert harness.tx_count() == 1
    assert "POST /v1/transactions/send" not in proxy.mangled[1:]  # never posted again


REFUSALS = [
    (where, status, body)
    for where, status, body in RECORDED_ERRORS
    if where.startswith(("B.10", "B.29", "B.30", "A: ERROR: missing to"))
]


@pytest.mark.parametrize(
    ("status", "body"),
    [(status, body) for _, status, body in REFUSALS],
    ids=[where for where, _, _ in REFUSALS],
)
async def test_the_daemons_own_refusal_through_the_proxy_is_not_sent(
    harness: Harness, proxy: ManglingProxy, status: int, body: dict[str, object]
) -> None:
    proxy.rules.append(Rule(*SEND, json_error(status, body)))
    result, _ = await harness.run(PLAYBOOK, daemon_url=proxy.url, sleep=no_wait)
    # (the proxy replaced a created send here, so the daemon holds one; what matters is
    # that the recorded refusal is believed: not reconciled, marked not_sent, step failed)
    assert result.exit_code is ExitCode.FAILED
    [send] = harness.sends()
    assert send.state is SendState.NOT_SENT
    assert proxy.mangled == ["POST /v1/transactions/send"]  # no list read: nothing to settle
    assert str(body["code"]) in reason(result, "fund")
