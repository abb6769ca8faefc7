"""A memo goes on chain, readable by anyone: one that holds a session token is refused
before any request, however the token got there (issue 10)."""

from __future__ import annotations

import pytest

from runner.engine.results import ExitCode, StepStatus
from runner.engine.scope import Mode
from tests.engine.conftest import HEAD, Engine, step

TOKEN = "wai_sess_eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZW1vLW1hcmtlciJ9.bWVtby1zaWduYXR1cmU"
BARE_JWT = TOKEN.removeprefix("wai_sess_")
HEAD_WITH_NOTE = HEAD.replace(
    "  WAIAAS_SESSION_TOKEN: ~\n", "  WAIAAS_SESSION_TOKEN: ~\n  NOTE: ~\n"
)

BODY = """
vars: { note: "plain" }
steps:
  - id: pay
    send: { from: treasury, to: agent, amount: "0.001 ETH", memo: "%s" }
"""

CASES = {
    "--var": ("${{ vars.note }}", {"note": TOKEN}, {}),
    "--var inside text": ("paid ${{ vars.note }} today", {"note": TOKEN}, {}),
    "env": ("${{ env.NOTE }}", {}, {"NOTE": TOKEN}),
    "a bare JWT": ("${{ vars.note }}", {"note": BARE_JWT}, {}),
    "upper-case prefix": (
        "${{ vars.note }}",
        {"note": TOKEN.replace("wai_sess_", "WAI_SESS_")},
        {},
    ),
}


@pytest.mark.parametrize("mode", ["run", "plan"])
@pytest.mark.parametrize("case", list(CASES))
async def test_a_token_shaped_memo_is_refused(engine: Engine, case: str, mode: Mode) -> None:
    memo, variables, environ = CASES[case]
    result, _ = await engine.run(
        BODY % memo,
        mode,
        head=HEAD_WITH_NOTE,
        variables=variables,
        environ={"NOTE": "plain", **environ},
    )
    pay = step(result, "pay")
    assert pay.status is StepStatus.FAILED
    assert pay.reason == "the memo holds a session token; refused, nothing was sent"
    assert result.exit_code is ExitCode.FAILED
    assert engine.sandbox.transaction_count() == 0
    with engine.ledger() as ledger:
        assert ledger.sends() == []
    assert engine.state.exists() or mode == "plan"
    if engine.state.exists():
        stored = engine.state.read_bytes()
        assert (
            b"bWVtby1zaWduYXR1cmU" not in stored and b"eyJzdWIiOiJtZW1vLW1hcmtlciJ9" not in stored
        )


async def test_an_ordinary_memo_is_sent_as_written(engine: Engine) -> None:
    result, _ = await engine.run(
        BODY % "payday ${{ vars.note }}",
        head=HEAD_WITH_NOTE,
        environ={"NOTE": "plain"},
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    with engine.ledger() as ledger:
        [intent] = ledger.sends()
    assert intent.request["memo"] == "payday plain"
