"""assert, log and notify, and what the engine does around every step (if, timeouts,
continue_on_error, the record)."""

from __future__ import annotations

import pytest
import tenacity
from tenacity import wait_none

from runner.engine.results import ExitCode, StepStatus
from runner.playbook import PlaybookError
from tests.engine.conftest import Engine, Webhook, outputs, statuses, step


async def test_assert_passes_and_fails_with_its_message(engine: Engine) -> None:
    result, reporter = await engine.run(
        """
        steps:
          - id: agent
            balance: { wallet: agent }
          - id: enough
            assert: steps.agent.amount >= amount("0.02 ETH")
          - id: too_much
            assert: steps.agent.amount > amount("1 ETH")
            message: "agent holds only ${{ steps.agent.amount }}"
          - log: never reached
        """
    )
    assert outputs(result, "enough") == {"skipped": False, "passed": True, "message": None}
    failed = step(result, "too_much")
    assert failed.status is StepStatus.FAILED
    assert failed.reason == "agent holds only 0.02 ETH"
    assert failed.output == {
        "skipped": False,
        "passed": False,
        "message": "agent holds only 0.02 ETH",
    }
    assert result.exit_code is ExitCode.FAILED
    assert reporter.started == ["agent", "enough", "too_much"]  # the run stopped there


async def test_assert_without_message_names_the_condition(engine: Engine) -> None:
    result, _ = await engine.run("steps:\n  - id: a\n    assert: 1 + 1 == 3\n")
    assert step(result, "a").reason == "assertion failed: 1 + 1 == 3"
    assert result.exit_code is ExitCode.FAILED


async def test_log_renders_values_and_reaches_the_reporter(engine: Engine) -> None:
    result, reporter = await engine.run(
        """
        vars: { floor: "0.05 ETH" }
        steps:
          - id: usdc
            balance: { wallet: treasury, token: USDC }
          - id: line
            log: "treasury holds ${{ steps.usdc.amount }} (floor ${{ vars.floor }})"
            level: warning
        """
    )
    assert outputs(result, "line")["message"] == "treasury holds 5000 USDC (floor 0.05 ETH)"
    assert ("warning", "treasury holds 5000 USDC (floor 0.05 ETH)") in reporter.logs


async def test_a_failing_expression_is_a_step_failure_not_a_crash(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        vars: { n: 1 }
        steps:
          - id: divide
            log: "${{ 1 / vars.n }}"
        """,
        variables={"n": "0"},  # only the run can see the zero
    )
    failed = step(result, "divide")
    assert failed.status is StepStatus.FAILED and failed.reason
    assert result.exit_code is ExitCode.FAILED


async def test_notify_posts_the_message_to_the_webhook(engine: Engine, webhook: Webhook) -> None:
    result, _ = await engine.run(
        f"""
        notify: {{ webhook: "{webhook.url}" }}
        steps:
          - id: agent
            balance: {{ wallet: agent }}
          - id: tell
            notify: {{ message: "agent has ${{{{ steps.agent.amount }}}}" }}
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "tell")["delivered"] is True
    (event,) = webhook.received
    assert event == {
        "event": "notify",
        "playbook": "engine-test",
        "run_id": result.run_id,
        "step": "tell",
        "message": "agent has 0.02 ETH",
    }


async def test_notify_in_a_plan_posts_nothing(engine: Engine, webhook: Webhook) -> None:
    result, reporter = await engine.run(
        f"""
        steps:
          - id: tell
            notify: {{ message: "hello", webhook: "{webhook.url}" }}
        """,
        mode="plan",
    )
    assert outputs(result, "tell")["delivered"] is False
    assert webhook.received == []
    assert ("info", "plan: would notify: hello") in reporter.logs


async def test_notify_failure_is_a_step_failure(
    engine: Engine, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tenacity, "wait_exponential", lambda **_: wait_none())  # no real waits
    webhook.status = 500
    result, _ = await engine.run(
        f"""
        steps:
          - id: tell
            notify: {{ message: "hello", webhook: "{webhook.url}" }}
        """
    )
    failed = step(result, "tell")
    assert failed.status is StepStatus.FAILED
    assert failed.reason == "notify: the webhook answered HTTP 500"
    assert failed.output["delivered"] is False
    assert len(webhook.received) == 3  # it tried three times
    assert result.exit_code is ExitCode.FAILED


async def test_notify_to_nowhere_fails_clearly(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tenacity, "wait_exponential", lambda **_: wait_none())  # no real waits
    closed = "http://127.0.0.1:1/hook"  # nothing listens on port 1
    result, _ = await engine.run(
        f"""
        steps:
          - id: tell
            notify: {{ message: "hello", webhook: "{closed}" }}
        """
    )
    assert step(result, "tell").reason == (
        "notify: the webhook could not be reached (ConnectError)"
    )


async def test_if_false_skips_and_continue_on_error_goes_on(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        vars: { go: false }
        steps:
          - id: skipped
            if: vars.go
            balance: { wallet: agent }
          - id: tolerated
            continue_on_error: true
            assert: steps.skipped.skipped == false
          - id: reads_null
            assert: steps.skipped.amount == null
        """
    )
    assert statuses(result) == {
        "skipped": StepStatus.SKIPPED,
        "tolerated": StepStatus.FAILED,
        "reads_null": StepStatus.OK,
    }
    assert step(result, "skipped").reason == "if: vars.go is false"
    assert step(result, "tolerated").tolerated
    assert result.exit_code is ExitCode.OK
    assert result.counts() == {"ok": 1, "skipped": 1, "failed": 1, "unknown": 0}


async def test_step_timeout_ends_a_slow_step(engine: Engine) -> None:
    engine.sandbox.add_fault("GET /v1/wallet/balance latency=2")
    result, _ = await engine.run(
        """
        steps:
          - id: slow
            timeout: 100ms
            balance: { wallet: agent }
        """
    )
    assert step(result, "slow").reason == "timed out after 0.1s (timeout: on the step)"
    assert result.exit_code is ExitCode.FAILED


async def test_run_timeout_is_a_failure_outside_any_step(engine: Engine) -> None:
    engine.sandbox.add_fault("GET /v1/wallet/balance latency=2")
    result, _ = await engine.run(
        "steps:\n  - id: slow\n    balance: { wallet: agent }\n", timeout=0.1
    )
    assert result.error == "the run timed out after 0.1s"
    assert result.exit_code is ExitCode.FAILED


async def test_the_run_and_its_steps_are_recorded_in_the_ledger(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: agent
            balance: { wallet: agent }
          - id: check
            assert: steps.agent.amount > amount("1 ETH")
        """
    )
    with engine.ledger() as ledger:
        run = ledger.run(result.run_id)
        steps = ledger.steps(result.run_id)
    assert run is not None and (run.status, run.exit_code) == ("failed", 1)
    assert steps["agent"].status == "ok" and steps["check"].status == "failed"


async def test_resume_skips_steps_that_finished_and_reruns_the_failed_one(engine: Engine) -> None:
    body = """
        vars: { need: "1 ETH" }
        steps:
          - id: fund
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
          - id: check
            assert: amount("0.5 ETH") > vars.need
    """
    first, _ = await engine.run(body)
    assert first.exit_code is ExitCode.FAILED
    path = engine.write(body)
    from runner.engine.launch import LaunchOptions, launch
    from runner.playbook import load_playbook
    from tests.engine.conftest import Collector

    reporter = Collector()
    options = LaunchOptions(
        daemon_url=engine.sandbox.url,
        variables={"need": "0.1 ETH"},
        resume=True,
        state=engine.state,
        environ=engine.environ(),
        retry_policy=engine.retry_policy,
    )
    second = await launch(load_playbook(path), path, "run", options, reporter)
    assert second.run_id == first.run_id
    assert second.exit_code is ExitCode.OK
    assert (
        step(second, "fund").resumed
        and outputs(second, "fund")["id"] == outputs(first, "fund")["id"]
    )
    assert reporter.started == ["check"]
    assert engine.sandbox.transaction_count() == 1


async def test_the_session_token_is_never_readable_by_a_step(engine: Engine) -> None:
    # Reading it outside daemon.token is refused when the playbook loads ...
    with pytest.raises(PlaybookError, match="holds the session token") as refused:
        await engine.run(
            """
            steps:
              - id: leak
                log: "token ${{ env.WAIAAS_SESSION_TOKEN }}"
            """
        )
    assert engine.sandbox.token not in str(refused.value)
    # ... and a run never gives it to expressions anyway.
    result, reporter = await engine.run(
        """
        steps:
          - id: fine
            log: "no token here"
        """
    )
    assert step(result, "fine").status is StepStatus.OK
    everything = repr(result) + repr(reporter)
    assert engine.sandbox.token not in everything
    assert engine.sandbox.token.split(".")[-1] not in everything


async def test_the_playbook_notify_hook_reports_sends_and_failures(
    engine: Engine, webhook: Webhook
) -> None:
    result, _ = await engine.run(
        f"""
        notify: {{ webhook: "{webhook.url}", on: [send, failure, success] }}
        steps:
          - id: fund
            send: {{ from: treasury, to: agent, amount: "0.001 ETH" }}
          - assert: "false"
            message: stop here
        """
    )
    assert result.exit_code is ExitCode.FAILED
    send, failure = webhook.received
    assert send["event"] == "send" and send["step"] == "fund" and send["amount"] == "0.001 ETH"
    assert send["id"] == step(result, "fund").output["id"]
    assert failure["event"] == "failure" and failure["exit_code"] == 1
    assert failure["steps"] == [{"step": "assert-2", "reason": "stop here"}]
    assert engine.sandbox.token not in str(webhook.received)


async def test_a_failing_notify_hook_never_changes_the_result(
    engine: Engine, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tenacity, "wait_exponential", lambda **_: wait_none())  # no real waits
    webhook.status = 503
    result, _ = await engine.run(
        f"""
        notify: {{ webhook: "{webhook.url}", on: [success] }}
        steps:
          - log: fine
        """
    )
    assert result.exit_code is ExitCode.OK
    assert len(webhook.received) == 3  # tried, retried, gave up quietly


async def test_a_step_retry_override_replaces_the_policy_for_that_step(engine: Engine) -> None:
    engine.sandbox.add_fault("GET /v1/wallet/balance status=503 times=2")
    result, _ = await engine.run(
        """
        steps:
          - id: impatient
            retry: { attempts: 0 }
            continue_on_error: true
            balance: { wallet: agent }
          - id: patient
            retry: { attempts: 5, delay: 10ms }
            balance: { wallet: agent }
        """
    )
    assert statuses(result) == {"impatient": StepStatus.FAILED, "patient": StepStatus.OK}
    assert "503" in (step(result, "impatient").reason or "")
    assert engine.retry_sleep.waits == [0.01]  # one retry, at the step's own delay
