"""send and wait against the sandbox: tiers, limits, refusals, lost answers, deadlines."""

from __future__ import annotations

from runner.engine.results import ExitCode, StepStatus
from runner.ledger import SendState
from tests.engine.conftest import Engine, outputs, statuses, step

AGENT = "0xd4f0bc5a29de06b510f9aa428f1eedba926012b5"
TREASURY = "0x66fa9f9d3186b9c13a66b004fc8bb5f3359c4deb"
SEND_ONE = 'steps:\n  - id: s\n    send: { from: treasury, to: agent, amount: "0.001 ETH" }\n'


async def test_instant_send_then_wait_until_confirmed(engine: Engine) -> None:
    result, reporter, sleep = await engine.execute(
        """
        steps:
          - id: fund
            send: { from: treasury, to: agent, amount: "0.005 ETH", memo: "run ${{ run.id }}" }
          - id: settle
            wait: { transaction: "${{ steps.fund.id }}", until: CONFIRMED, interval: 2s }
          - id: after
            balance: { wallet: agent }
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    fund = outputs(result, "fund")
    assert fund["sent"] is True and fund["status"] == "PENDING" and fund["adopted"] is False
    assert (fund["amount"], fund["raw"], fund["to"], fund["to_wallet"]) == (
        "0.005 ETH",
        "5000000000000000",  # smallest units: always a string of digits in JSON
        AGENT,
        "agent",
    )
    settle = outputs(result, "settle")
    assert (settle["status"], settle["tier"], settle["reached"]) == ("CONFIRMED", "INSTANT", True)
    assert settle["tx_hash"].startswith("0x")
    assert outputs(result, "after")["amount"] == "0.025 ETH"
    assert sleep.waits[:2] == [1.0, 2.0]  # backoff from 1 s up to the interval
    assert any("CONFIRMED (tier INSTANT)" in message for _, message in reporter.logs)
    # the ledger holds the send, accepted under its key, with the final status
    with engine.ledger() as ledger:
        (intent,) = ledger.sends(run_id=result.run_id)
    assert intent.state is SendState.ACCEPTED and intent.tx_id == fund["id"]
    assert intent.key == f"engine-test/{result.run_id}/fund"
    tx = engine.sandbox.core.store.tx(fund["id"])
    assert tx is not None and tx.amount == "5000000000000000"


async def test_delay_tier_is_queued_then_confirms(engine: Engine) -> None:
    result, _, sleep = await engine.execute(
        """
        steps:
          - id: top_up
            send: { from: treasury, to: agent, amount: "0.08 ETH" }
          - id: queued
            wait: { transaction: "${{ steps.top_up.id }}", until: QUEUED }
          - id: done
            wait: { transaction: "${{ steps.top_up.id }}", interval: 5s }
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert (outputs(result, "queued")["status"], outputs(result, "queued")["tier"]) == (
        "QUEUED",
        "DELAY",
    )
    assert outputs(result, "done")["status"] == "CONFIRMED"
    assert sum(sleep.waits) >= 5  # the 5 s delay passed on the sandbox clock, not for real


async def test_wait_fails_when_the_transaction_ends_failed(engine: Engine) -> None:
    # the daemon accepts a send the wallet cannot pay (201 PENDING); it fails later
    result, _, _ = await engine.execute(
        """
        steps:
          - id: too_much
            send: { from: agent, to: treasury, amount: "1 ETH" }
          - id: settle
            wait: { transaction: "${{ steps.too_much.id }}" }
          - log: never reached
        """
    )
    assert statuses(result) == {"too_much": StepStatus.OK, "settle": StepStatus.FAILED}
    settle = step(result, "settle")
    assert settle.reason is not None
    assert settle.reason.startswith(f"transaction {outputs(result, 'too_much')['id']} ended FAILED")
    assert "waiting for CONFIRMED" in settle.reason
    assert settle.output["status"] == "FAILED" and settle.output["reached"] is False
    assert result.exit_code is ExitCode.FAILED


async def test_wait_fails_when_the_owner_rejects(engine: Engine) -> None:
    sandbox = engine.sandbox
    first, _, _ = await engine.execute(
        'steps:\n  - id: big\n    send: { from: treasury, to: agent, amount: "0.5 ETH" }\n'
    )
    tx_id = outputs(first, "big")["id"]
    sandbox.advance(1)
    sandbox.reject(tx_id)
    result, _, _ = await engine.execute(
        f'steps:\n  - id: w\n    wait: {{ transaction: "{tx_id}" }}\n'
    )
    assert step(result, "w").status is StepStatus.FAILED
    assert outputs(result, "w")["reached"] is False
    assert outputs(result, "w")["status"] in ("CANCELLED", "FAILED", "EXPIRED")


async def test_wait_deadline_fail_cancel_and_continue(engine: Engine) -> None:
    result, reporter, sleep = await engine.execute(
        """
        steps:
          - id: big
            send: { from: treasury, to: agent, amount: "0.5 ETH" }   # APPROVAL: waits for the owner
          - id: go_on
            wait: { transaction: "${{ steps.big.id }}", timeout: 20s, interval: 5s,
                    on_timeout: continue }
          - id: cancel
            wait: { transaction: "${{ steps.big.id }}", timeout: 20s, interval: 5s,
                    on_timeout: cancel }
          - id: pending_after
            pending: { wallet: treasury }
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    go_on = outputs(result, "go_on")
    assert (go_on["status"], go_on["reached"]) == ("QUEUED", False)
    assert outputs(result, "cancel")["status"] == "CANCELLED"
    assert outputs(result, "pending_after")["count"] == 0
    warnings = [message for level, message in reporter.logs if level == "warning"]
    assert any("(on_timeout: continue)" in m for m in warnings)
    assert any(m.endswith(": cancelled") for m in warnings)
    assert max(sleep.waits) <= 5

    failing, _, _ = await engine.execute(
        f"""
        steps:
          - id: late
            wait: {{ transaction: "{outputs(result, "big")["id"]}", until: CONFIRMED,
                    timeout: 10s, on_timeout: fail }}
        """
    )
    # CANCELLED is terminal: the wait fails at once instead of waiting out its deadline
    assert step(failing, "late").status is StepStatus.FAILED
    assert "ended CANCELLED" in (step(failing, "late").reason or "")


async def test_wait_deadline_fails_and_cancel_needs_queued(engine: Engine) -> None:
    engine.sandbox.set_stuck(AGENT)
    result, _, _ = await engine.execute(
        """
        steps:
          - id: stuck
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
          - id: no_cancel
            continue_on_error: true
            wait: { transaction: "${{ steps.stuck.id }}", timeout: 30s, on_timeout: cancel }
          - id: fail
            wait: { transaction: "${{ steps.stuck.id }}", timeout: 30s }
        """
    )
    no_cancel = step(result, "no_cancel")
    assert no_cancel.status is StepStatus.FAILED and no_cancel.tolerated
    assert "only a QUEUED transaction can be cancelled" in (no_cancel.reason or "")
    fail = step(result, "fail")
    assert fail.reason is not None and "is still SUBMITTED after 0:00:30 (on_timeout: fail)" in (
        fail.reason
    )
    assert fail.output["status"] == "SUBMITTED"
    assert result.exit_code is ExitCode.FAILED


async def test_wait_for_an_unknown_transaction_fails(engine: Engine) -> None:
    result, _, _ = await engine.execute(
        """
        steps:
          - id: w
            wait: { transaction: "01a213cb-0000-7000-8000-000000000000" }
        """
    )
    assert "TX_NOT_FOUND" in (step(result, "w").reason or "")


async def test_wait_on_a_skipped_send_says_there_is_nothing(engine: Engine) -> None:
    result, _, _ = await engine.execute(
        """
        vars: { go: false }
        steps:
          - id: fund
            if: vars.go
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
          - id: w
            wait: { transaction: "${{ steps.fund.id }}" }
        """
    )
    assert step(result, "fund").status is StepStatus.SKIPPED
    assert step(result, "fund").output["skipped"] is True
    assert step(result, "w").status is StepStatus.FAILED
    assert "no transaction to wait for" in (step(result, "w").reason or "")
    assert engine.sandbox.transaction_count() == 0


async def test_limits_stop_a_send_before_anything_is_posted(engine: Engine) -> None:
    # the amounts come from --var overrides, so only the run-time check can see them
    result, _ = await engine.run(
        """
        vars: { first: "0.001 ETH", second: "0.001 ETH", third: "0.001 ETH", to: agent }
        limits:
          max_per_send: "0.1 ETH"
          max_per_run: "0.012 ETH"
          allow_to: [agent]
        steps:
          - id: ok
            send: { from: treasury, to: agent, amount: "${{ vars.first }}" }
          - id: per_run
            continue_on_error: true
            send: { from: treasury, to: agent, amount: "${{ vars.second }}" }
          - id: per_send
            continue_on_error: true
            send: { from: treasury, to: agent, amount: "${{ vars.third }}" }
          - id: stranger
            continue_on_error: true
            send: { from: treasury, to: "${{ vars.to }}", amount: "0.001 ETH" }
        """,
        variables={
            "first": "0.01 ETH",
            "second": "0.005 ETH",
            "third": "0.2 ETH",
            "to": "0x0000000000000000000000000000000000000001",
        },
    )
    assert outputs(result, "ok")["limits"] == [
        "allow_to",
        "max_per_send 0.1 ETH",
        "max_per_run 0.012 ETH",
    ]
    assert step(result, "per_run").reason == (
        "limit max_per_run (playbook): this run would send 0.015 ETH, more than 0.012 ETH "
        "(counting this run's sends on ethereum-sepolia); nothing was sent"
    )
    assert step(result, "per_send").reason == (
        "limit max_per_send (playbook): 0.2 ETH is more than 0.1 ETH; nothing was sent"
    )
    assert step(result, "stranger").reason == (
        "limit allow_to (playbook): recipient 0x0000000000000000000000000000000000000001 "
        "is not in [agent]; nothing was sent"
    )
    assert engine.sandbox.transaction_count() == 1
    assert result.exit_code is ExitCode.OK  # every failure was tolerated


async def test_max_per_day_counts_earlier_runs_from_the_ledger(engine: Engine) -> None:
    body = """
        limits: { max_per_day: "0.015 ETH" }
        steps:
          - id: daily
            send: { from: treasury, to: agent, amount: "0.01 ETH" }
    """
    first, _ = await engine.run(body)
    second, _ = await engine.run(body)
    assert first.exit_code is ExitCode.OK
    assert second.exit_code is ExitCode.FAILED
    assert step(second, "daily").reason == (
        "limit max_per_day (playbook): 0.01 ETH already sent in the last 24 h (in-flight "
        "sends included); 0.01 ETH more would pass 0.015 ETH (counting this playbook's sends "
        "on ethereum-sepolia); nothing was sent"
    )
    assert engine.sandbox.transaction_count() == 1


async def test_a_refused_send_fails_and_is_marked_not_sent(engine: Engine) -> None:
    engine.sandbox.add_fault("POST /v1/transactions/send status=404 code=WALLET_NOT_FOUND times=1")
    result, _ = await engine.run(
        'steps:\n  - id: s\n    send: { from: treasury, to: agent, amount: "0.001 ETH" }\n'
    )
    assert (step(result, "s").reason or "").startswith("the daemon refused the send: ")
    assert result.exit_code is ExitCode.FAILED
    with engine.ledger() as ledger:
        (intent,) = ledger.sends(run_id=result.run_id)
    assert intent.state is SendState.NOT_SENT
    assert engine.sandbox.transaction_count() == 0


async def test_a_lost_answer_is_adopted_from_the_transaction_list(engine: Engine) -> None:
    engine.sandbox.add_fault("POST /v1/transactions/send drop times=1")
    result, reporter = await engine.run(
        'steps:\n  - id: s\n    send: { from: treasury, to: agent, amount: "0.001 ETH" }\n'
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    out = outputs(result, "s")
    assert out["sent"] is True and out["adopted"] is True
    assert engine.sandbox.transaction_count() == 1  # created once, never posted again
    assert any("adopted" in message for level, message in reporter.logs if level == "warning")


async def test_a_proxy_error_on_send_is_reconciled_then_sent_once(engine: Engine) -> None:
    # a 502 page from a proxy: the daemon may or may not have seen the send
    engine.sandbox.add_fault("POST /v1/transactions/send status=502 body=proxy times=1")
    result, reporter = await engine.run(
        'steps:\n  - id: s\n    send: { from: treasury, to: agent, amount: "0.001 ETH" }\n'
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "s")["adopted"] is False
    assert engine.sandbox.transaction_count() == 1
    assert any("holds no such transaction" in message for _, message in reporter.logs)


async def test_an_unsettled_send_stops_the_run_with_exit_3(engine: Engine) -> None:
    engine.sandbox.add_fault("POST /v1/transactions/send drop times=1")
    engine.sandbox.add_fault("GET /v1/transactions status=500 code=INTERNAL_ERROR")
    result, _ = await engine.run(
        """
        steps:
          - id: s
            continue_on_error: true   # does not cover a send that may have happened
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
          - log: never reached
        """
    )
    assert result.exit_code is ExitCode.UNKNOWN_SEND
    assert statuses(result) == {"s": StepStatus.UNKNOWN}
    reason = step(result, "s").reason or ""
    assert f"send engine-test/{result.run_id}/s is in an unknown state" in reason
    assert "waiaas-run resolve" in reason
    with engine.ledger() as ledger:
        (intent,) = ledger.sends(run_id=result.run_id)
        run = ledger.run(result.run_id)
    assert intent.state is SendState.UNKNOWN
    assert run is not None and run.status == "unknown"

    # the same run again (same send key): blocked, never posted a second time
    engine.sandbox.clear_faults()
    again, _ = await engine.run(
        'steps:\n  - id: s\n    send: { from: treasury, to: agent, amount: "0.001 ETH" }\n',
        run_id=result.run_id,
    )
    assert again.exit_code is ExitCode.UNKNOWN_SEND
    assert engine.sandbox.transaction_count() == 1


async def test_a_send_key_already_accepted_is_adopted_not_resent(engine: Engine) -> None:
    body = 'steps:\n  - id: s\n    send: { from: treasury, to: agent, amount: "0.001 ETH" }\n'
    first, _ = await engine.run(body, run_id="fixed-run")
    second, _ = await engine.run(body, run_id="fixed-run")
    assert outputs(second, "s")["id"] == outputs(first, "s")["id"]
    assert outputs(second, "s")["adopted"] is True
    assert engine.sandbox.transaction_count() == 1


async def test_token_send_moves_smallest_units_of_the_token(engine: Engine) -> None:
    result, _, _ = await engine.execute(
        """
        steps:
          - id: pay
            send: { from: treasury, to: agent, amount: "2.5 USDC" }
          - wait: { transaction: "${{ steps.pay.id }}" }
          - id: got
            balance: { wallet: agent, token: USDC }
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "pay")["raw"] == "2500000"
    assert outputs(result, "got")["amount"] == "2.5 USDC"


async def test_sending_a_token_the_wallet_does_not_hold_fails_before_posting(
    engine: Engine,
) -> None:
    result, _ = await engine.run(
        'steps:\n  - id: s\n    send: { from: agent, to: treasury, amount: "1 USDC" }\n'
    )
    assert "the daemon reports no USDC" in (step(result, "s").reason or "")
    assert engine.sandbox.transaction_count() == 0


async def test_a_step_timeout_during_a_send_is_an_unknown_send_that_resume_settles(
    engine: Engine,
) -> None:
    engine.sandbox.add_fault("POST /v1/transactions/send latency=1 times=1")
    body = """
        steps:
          - id: s
            timeout: 100ms
            continue_on_error: true
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
          - log: never reached
    """
    result, _ = await engine.run(body)
    # the request may have reached the daemon: not "failed", which invites a blind re-run
    assert statuses(result) == {"s": StepStatus.UNKNOWN}
    assert "the step timed out after 0.1s" in (step(result, "s").reason or "")
    assert result.exit_code is ExitCode.UNKNOWN_SEND

    resumed, _ = await engine.run(body, resume=True)
    assert resumed.run_id == result.run_id
    assert resumed.exit_code is ExitCode.OK, resumed.summary()
    assert engine.sandbox.transaction_count() == 1


async def test_a_run_timeout_during_a_send_is_an_unknown_send(engine: Engine) -> None:
    engine.sandbox.add_fault("POST /v1/transactions/send latency=1 times=1")
    result, _ = await engine.run(SEND_ONE, timeout=0.2)
    assert result.exit_code is ExitCode.UNKNOWN_SEND
    assert result.error is not None
    assert result.error.startswith("the run timed out after 0.2s while send engine-test/")
    with engine.ledger() as ledger:
        run = ledger.run(result.run_id)
    assert run is not None and run.status == "unknown"
