"""A recipient a run computes (from env, a var, an expression) meets the rule a written one
meets at validate time: an address of a known shape, and a mixed-case EVM address only with
a valid EIP-55 checksum. Otherwise the send fails before any request (QA, issue 10)."""

from __future__ import annotations

import pytest

from runner.engine.results import ExitCode, StepStatus
from runner.engine.scope import Mode
from runner.playbook import PlaybookError, load_playbook_text
from tests.engine.conftest import HEAD, Engine, step

HEAD_WITH_TO = HEAD.replace("  WAIAAS_SESSION_TOKEN: ~\n", "  WAIAAS_SESSION_TOKEN: ~\n  TO: ~\n")
AGENT = "0xd4f0bc5a29de06b510f9aa428f1eedba926012b5"  # the default fixture's agent wallet

BODY = """
vars: { to: "agent" }
steps:
  - id: pay
    send: { from: treasury, to: "%s", amount: "0.001 ETH" }
"""

BROKEN_CHECKSUM = "0xD4f0bc5a29de06b510f9aa428f1eedba926012b5"
REFUSED = {
    "env, broken checksum": ("${{ env.TO }}", {}, {"TO": BROKEN_CHECKSUM}),
    "var, broken checksum": ("${{ vars.to }}", {"to": BROKEN_CHECKSUM}, {}),
    "env, trailing newline": ("${{ env.TO }}", {}, {"TO": AGENT + "\n"}),
    "env, leading space": ("${{ env.TO }}", {}, {"TO": " " + AGENT}),
    "env, empty": ("${{ env.TO }}", {}, {"TO": ""}),
    "var, 0X prefix": ("${{ vars.to }}", {"to": "0X" + AGENT[2:]}, {}),
    "var, one digit short": ("${{ vars.to }}", {"to": AGENT[:-1]}, {}),
    "text around, a misspelt alias": ("${{ vars.to }}x", {}, {}),
}
ACCEPTED = {
    "all lower case": AGENT,
    "all upper case": "0x" + AGENT[2:].upper(),
    "EIP-55 checksum": "0xd4F0bc5a29De06b510F9aa428f1EedBA926012B5",
    "a wallet alias": "agent",
}


@pytest.mark.parametrize("mode", ["run", "plan"])
@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_computed_recipient_that_is_no_address_is_refused(
    engine: Engine, case: str, mode: Mode
) -> None:
    to, variables, environ = REFUSED[case]
    result, _ = await engine.run(
        BODY % to, mode, head=HEAD_WITH_TO, variables=variables, environ={"TO": "", **environ}
    )
    pay = step(result, "pay")
    assert pay.status is StepStatus.FAILED
    assert pay.reason is not None and pay.reason.startswith("recipient ")
    assert pay.reason.endswith("nothing was sent")
    assert result.exit_code is ExitCode.FAILED
    assert engine.sandbox.transaction_count() == 0


@pytest.mark.parametrize("case", list(ACCEPTED))
async def test_a_computed_address_in_any_valid_spelling_is_sent(engine: Engine, case: str) -> None:
    result, _ = await engine.run(
        BODY % "${{ env.TO }}", head=HEAD_WITH_TO, environ={"TO": ACCEPTED[case]}
    )
    pay = step(result, "pay")
    assert pay.status is StepStatus.OK, pay.reason
    assert pay.output["to"].lower() == AGENT
    assert engine.sandbox.transaction_count() == 1


@pytest.mark.parametrize(
    "written",
    [
        "|\n        0xd4f0bc5a29de06b510f9aa428f1eedba926012b5\n",  # block scalar: trailing newline
        '"0xd4f0bc5a29de06b510f9aa428f1eedba926012b5\\n"',
        '"0xD4f0bc5a29de06b510f9aa428f1eedba926012b5"',
    ],
)
def test_a_written_recipient_with_a_trailing_newline_or_a_broken_checksum_is_refused(
    written: str,
) -> None:
    send = '    send:\n      from: treasury\n      amount: "1 wei"\n'
    text = HEAD + f"steps:\n  - id: pay\n{send}      to: {written}"
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text, "p.yaml")
    assert any(
        d.format().startswith("p.yaml:") and "send.to" in d.format()
        for d in caught.value.diagnostics
    )
