"""A person cannot misread what a send did (issue 10): ``sent`` only when a transaction
exists for the step, ``would_send`` in plans, ``adopted`` when an earlier attempt's
transaction was taken over instead of posting again."""

from __future__ import annotations

import io
import json
from typing import Any

from runner.engine.report import JsonReporter, TextReporter
from runner.engine.results import ExitCode, StepResult
from tests.engine.conftest import Engine, step

PAY = """
steps:
  - id: pay
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
"""


def text_line(result: StepResult) -> str:
    stream = io.StringIO()
    TextReporter(stream).step_finished(result)
    return stream.getvalue()


def json_event(result: StepResult) -> dict[str, Any]:
    stream = io.StringIO()
    JsonReporter(stream).step_finished(result)
    event: dict[str, Any] = json.loads(stream.getvalue())
    return event


async def test_a_new_send_says_sent(engine: Engine) -> None:
    result, _ = await engine.run(PAY, run_id="r-new")
    pay = step(result, "pay")
    line = text_line(pay)
    assert "sent=True" in line and "adopted" not in line and "would_send" not in line
    output = json_event(pay)["output"]
    assert (output["sent"], output["adopted"], output["would_send"]) == (True, False, None)


async def test_a_rerun_adopts_and_says_so(engine: Engine) -> None:
    first, _ = await engine.run(PAY, run_id="r-again")
    second, _ = await engine.run(PAY, run_id="r-again")
    assert second.exit_code is ExitCode.OK
    assert engine.sandbox.transaction_count() == 1  # never posted twice
    pay = step(second, "pay")
    line = text_line(pay)
    assert "adopted=True" in line and "sent=True" not in line, line
    output = json_event(pay)["output"]
    assert output["adopted"] is True and output["id"] == step(first, "pay").output["id"]


async def test_a_plan_says_would_send_and_never_sent(engine: Engine) -> None:
    result, _ = await engine.run(PAY, mode="plan")
    pay = step(result, "pay")
    line = text_line(pay)
    assert "would_send=True" in line and " sent=" not in line
    output = json_event(pay)["output"]
    assert (output["sent"], output["would_send"], output["status"]) == (False, True, "PLANNED")


async def test_a_skipped_send_says_why(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        vars: { go: false }
        steps:
          - id: pay
            if: vars.go
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
        """
    )
    pay = step(result, "pay")
    assert "if: vars.go is false" in text_line(pay)
    assert json_event(pay)["output"]["sent"] is None


async def test_the_quickstart_log_says_nothing_was_sent_in_a_plan(engine: Engine) -> None:
    _, reporter = await engine.run(
        """
        steps:
          - id: fund
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
          - log: "top-up sent: ${{ steps.fund.sent }}, would send: ${{ steps.fund.would_send }}"
        """,
        mode="plan",
    )
    assert ("info", "top-up sent: false, would send: true") in reporter.logs
