"""What waits, asserts and sends mean in a plan (issue 10).

A plan sends nothing: a send reports ``sent: false`` and ``would_send`` (the daemon's dry
run), so a wait guarded by ``if: steps.x.sent`` is skipped. An unguarded wait waits for
nothing (``status: PLANNED``, ``reached: null``); an assertion that reads such a wait is not
judged (``passed: null``), while one on what a plan does know is judged as in a run.
"""

from __future__ import annotations

import io

from runner.engine.report import TextReporter
from runner.engine.results import ExitCode, StepStatus
from tests.engine.conftest import Engine, outputs, statuses, step

SWEEP = """
vars: { keep: "1 ETH" }
steps:
  - id: treasury
    balance: { wallet: treasury }
  - id: sweep
    if: steps.treasury.amount > vars.keep
    send: { from: treasury, to: agent, amount: "0.08 ETH" }
  - id: settled
    if: steps.sweep.sent
    wait: { transaction: "${{ steps.sweep.id }}", until: CONFIRMED, timeout: 1h }
  - assert: not steps.sweep.sent or steps.settled.reached
    message: "sweep ${{ steps.sweep.id }} ended as ${{ steps.settled.status }}"
"""


async def test_a_guarded_wait_is_skipped_and_the_assert_holds(engine: Engine) -> None:
    result, _ = await engine.run(SWEEP, mode="plan")
    assert result.exit_code is ExitCode.OK, result.summary()
    sweep = outputs(result, "sweep")
    assert (sweep["sent"], sweep["would_send"], sweep["status"]) == (False, True, "PLANNED")
    assert statuses(result)["settled"] is StepStatus.SKIPPED
    assert outputs(result, "assert-4")["passed"] is True
    assert engine.sandbox.transaction_count() == 0


async def test_the_same_playbook_runs_for_real(engine: Engine) -> None:
    result, _, _ = await engine.execute(SWEEP)
    assert result.exit_code is ExitCode.OK, result.summary()
    sweep = outputs(result, "sweep")
    assert (sweep["sent"], sweep["would_send"], sweep["adopted"]) == (True, None, False)
    assert outputs(result, "settled")["reached"] is True
    assert outputs(result, "assert-4")["passed"] is True


async def test_an_assert_on_an_unguarded_wait_is_not_judged(engine: Engine) -> None:
    result, reporter = await engine.run(
        """
        steps:
          - id: pay
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
          - id: settle
            wait: { transaction: "${{ steps.pay.id }}" }
          - id: check
            assert: steps.settle.reached
            message: "ended as ${{ steps.settle.status }}"
        """,
        mode="plan",
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "settle")["status"] == "PLANNED"
    assert outputs(result, "settle")["reached"] is None
    assert outputs(result, "check")["passed"] is None
    assert ("info", "plan: not judged (it reads steps.settle, known only in a run)") in (
        reporter.logs
    )


async def test_a_message_reading_a_wait_also_leaves_the_assert_unjudged(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: settle
            wait: { transaction: "01234567-89ab-cdef-0123-456789abcdef" }
          - id: check
            assert: "true"
            message: "${{ steps.settle.tx_hash }}"
        """,
        mode="plan",
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "check")["passed"] is None


async def test_an_assert_on_what_a_plan_knows_is_judged(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: agent
            balance: { wallet: agent }
          - id: settle
            wait: { transaction: "01234567-89ab-cdef-0123-456789abcdef" }
          - id: check
            assert: steps.agent.amount > amount("1 ETH")
            message: "the agent holds only ${{ steps.agent.amount }}"
        """,
        mode="plan",
    )
    assert result.exit_code is ExitCode.FAILED
    assert statuses(result)["check"] is StepStatus.FAILED
    assert outputs(result, "check")["message"] == "the agent holds only 0.02 ETH"


async def test_plan_lines_say_would_send_never_sent(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: pay
            send: { from: agent, to: treasury, amount: "5 ETH" }
        """,
        mode="plan",
    )
    pay = outputs(result, "pay")
    assert pay["sent"] is False and pay["status"] == "PLANNED" and pay["would_send"] is True
    assert any("PROJECTED_BALANCE" in warning for warning in pay["warnings"]), pay["warnings"]
    stream = io.StringIO()
    reporter = TextReporter(stream)
    reporter.step_finished(step(result, "pay"))
    line = stream.getvalue()
    assert "would_send=True" in line and "status=PLANNED" in line
    assert "sent=" not in line.replace("would_send=", "")
