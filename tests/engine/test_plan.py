"""`plan`: reads are real, sends are dry runs, and projected balances chain through steps."""

from __future__ import annotations

import io
import json

from runner.engine.plan_report import MarkdownPlanReporter, PlanJsonReporter, planned_sends
from runner.engine.results import ExitCode, StepStatus
from tests.engine.conftest import Engine, outputs, statuses, step

# agent holds 0.02 ETH; a transfer burns 0.000042 ETH of fee on the sandbox
CHAIN = """
vars: { threshold: "0.015 ETH" }
steps:
  - id: before
    balance: { wallet: agent }
  - id: first
    if: steps.before.amount > vars.threshold
    send: { from: agent, to: treasury, amount: "0.008 ETH" }
  - id: between
    balance: { wallet: agent }
  - id: second
    if: steps.between.amount > vars.threshold
    send: { from: agent, to: treasury, amount: "0.008 ETH" }
  - id: after
    balance: { wallet: agent }
  - id: treasury
    balance: { wallet: treasury }
"""


async def test_plan_chains_projected_balances_and_skips_the_second_send(engine: Engine) -> None:
    before = engine.sandbox.transaction_count()
    result, _ = await engine.run(CHAIN, mode="plan")
    assert result.exit_code is ExitCode.OK, result.summary()
    assert result.mode == "plan"
    assert statuses(result)["first"] is StepStatus.OK
    assert outputs(result, "first")["status"] == "PLANNED"
    assert outputs(result, "first")["fee"] == "0.000042 ETH"
    # 0.02 - 0.008 - 0.000042: the later balance step reads the projection, not the daemon
    assert outputs(result, "between")["amount"] == "0.011958 ETH"
    # ... so the second send's condition is false
    assert statuses(result)["second"] is StepStatus.SKIPPED
    assert outputs(result, "after")["amount"] == "0.011958 ETH"
    assert outputs(result, "treasury")["amount"] == "10.008 ETH"  # the recipient gains it
    assert engine.sandbox.transaction_count() == before == 0
    assert [row["step"] for row in planned_sends(result)] == ["first"]


async def test_plan_chains_through_both_sends_when_the_condition_allows(engine: Engine) -> None:
    result, _ = await engine.run(CHAIN, mode="plan", variables={"threshold": "0.01 ETH"})
    assert statuses(result)["second"] is StepStatus.OK
    assert outputs(result, "after")["amount"] == "0.003916 ETH"  # 0.02 - 2 * 0.008042
    assert outputs(result, "treasury")["amount"] == "10.016 ETH"
    assert [row["step"] for row in planned_sends(result)] == ["first", "second"]
    assert engine.sandbox.transaction_count() == 0

    # the real run of the same playbook: the daemon debits only once a send executes,
    # which is exactly why plan keeps its own projection
    ran, _ = await engine.run(CHAIN, variables={"threshold": "0.01 ETH"})
    assert ran.exit_code is ExitCode.OK
    assert engine.sandbox.transaction_count() == 2


async def test_plan_warns_when_the_projected_balance_cannot_pay(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: first
            send: { from: agent, to: treasury, amount: "0.015 ETH" }
          - id: second
            send: { from: agent, to: treasury, amount: "0.005 ETH" }
        """,
        mode="plan",
    )
    # the daemon's dry run sees 0.02 ETH and has no objection to either
    assert outputs(result, "first")["warnings"] == []
    assert outputs(result, "second")["warnings"] == [
        "PROJECTED_BALANCE: agent would hold 0.004958 ETH by then, less than this send needs"
    ]
    assert engine.sandbox.transaction_count() == 0


async def test_plan_reports_tiers_and_daemon_warnings_and_never_sends(engine: Engine) -> None:
    result, reporter = await engine.run(
        """
        limits: { max_per_send: "1 ETH" }
        steps:
          - id: delayed
            send: { from: treasury, to: agent, amount: "0.08 ETH" }
          - id: approval
            send: { from: treasury, to: agent, amount: "0.5 ETH" }
          - id: settle
            wait: { transaction: "${{ steps.approval.id }}", until: CONFIRMED }
          - id: drained
            pending: { wallet: treasury, until_empty: true }
          - log: "plan of ${{ steps.approval.amount }}"
        """,
        mode="plan",
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "delayed")["tier"] == "DELAY"
    assert outputs(result, "delayed")["limits"] == ["max_per_send 1 ETH"]
    assert outputs(result, "approval")["tier"] == "APPROVAL"
    assert outputs(result, "approval")["warnings"] == [
        "APPROVAL_REQUIRED: The owner must approve this transfer"
    ]
    assert outputs(result, "settle")["status"] == "PLANNED"
    assert outputs(result, "drained")["count"] == 0  # read once; plan never polls
    assert ("info", "plan: would wait until CONFIRMED") in reporter.logs
    assert engine.sandbox.transaction_count() == 0
    with engine.ledger() as ledger:  # nothing of a plan is recorded
        assert ledger.runs() == []
        assert ledger.sends() == []

    stream = io.StringIO()
    PlanJsonReporter(stream).run_finished(result)
    plan_event, summary = (json.loads(line) for line in stream.getvalue().splitlines())
    assert [row["tier"] for row in plan_event["sends"]] == ["DELAY", "APPROVAL"]
    assert plan_event["sends"][1]["smallest units"] == "500000000000000000"
    assert summary["exit_code"] == 0 and summary["mode"] == "plan"

    markdown = io.StringIO()
    MarkdownPlanReporter(markdown).run_finished(result)
    assert "| approval | treasury | agent (0xd4f0" in markdown.getvalue()


async def test_a_failed_dry_run_fails_the_plan_step(engine: Engine) -> None:
    engine.sandbox.add_fault("POST /v1/transactions/simulate status=502 body=proxy")
    result, _ = await engine.run(
        'steps:\n  - id: s\n    send: { from: treasury, to: agent, amount: "0.001 ETH" }\n',
        mode="plan",
    )
    failed = step(result, "s")
    assert failed.status is StepStatus.FAILED
    assert "HTTP 502" in (failed.reason or "")
    assert result.exit_code is ExitCode.FAILED
    assert engine.sandbox.transaction_count() == 0


async def test_plan_projects_a_token_the_recipient_does_not_hold_yet(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: pay
            send: { from: treasury, to: agent, amount: "2.5 USDC" }
          - id: agent_assets
            assets: { wallet: agent }
          - id: agent_usdc
            balance: { wallet: agent, token: USDC }
          - id: treasury_usdc
            balance: { wallet: treasury, token: USDC }
        """,
        mode="plan",
    )
    assert outputs(result, "pay")["tier"] == "NOTIFY"
    assert outputs(result, "agent_assets")["balances"] == {"ETH": "0.02 ETH", "USDC": "2.5 USDC"}
    assert outputs(result, "agent_usdc")["amount"] == "2.5 USDC"
    assert outputs(result, "treasury_usdc")["amount"] == "4997.5 USDC"
    assert engine.sandbox.transaction_count() == 0


async def test_plan_applies_max_per_run_to_planned_sends_like_a_run(engine: Engine) -> None:
    body = """
        vars: { each: "0.001 ETH" }
        limits: { max_per_run: "0.015 ETH" }
        steps:
          - id: one
            send: { from: treasury, to: agent, amount: "${{ vars.each }}" }
          - id: two
            send: { from: treasury, to: agent, amount: "${{ vars.each }}" }
    """
    planned, _ = await engine.run(body, mode="plan", variables={"each": "0.01 ETH"})
    ran, _ = await engine.run(body, variables={"each": "0.01 ETH"})
    assert statuses(planned) == statuses(ran) == {"one": StepStatus.OK, "two": StepStatus.FAILED}
    assert (step(planned, "two").reason or "").startswith("limit max_per_run (playbook)")
    assert engine.sandbox.transaction_count() == 1  # the run's first send only
