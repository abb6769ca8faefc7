"""A daemon (or whatever sits in front of it) answering nonsense: clear step failures."""

from __future__ import annotations

from runner.engine.results import ExitCode, StepStatus
from runner.ledger import SendState
from tests.engine.conftest import Engine, Mangler, outputs, step

BALANCE = "steps:\n  - id: b\n    balance: { wallet: agent }\n"
SEND = 'steps:\n  - id: s\n    send: { from: treasury, to: agent, amount: "0.001 ETH" }\n'


async def test_a_proxy_error_page_is_retried_then_named(engine: Engine) -> None:
    engine.sandbox.add_fault("GET /v1/wallet/balance status=502 body=proxy")
    result, _ = await engine.run(BALANCE)
    reason = step(result, "b").reason or ""
    assert "HTTP 502" in reason
    assert "not the daemon's JSON error body" in reason and "text/html" in reason
    assert engine.retry_sleep.waits == [1.0, 2.0, 4.0]  # a read is retried, never really waiting
    assert result.exit_code is ExitCode.FAILED


async def test_a_passing_proxy_error_is_survived(engine: Engine) -> None:
    engine.sandbox.add_fault("GET /v1/wallet/balance status=503 body=proxy times=2")
    result, _ = await engine.run(BALANCE)
    assert result.exit_code is ExitCode.OK
    assert outputs(result, "b")["amount"] == "0.02 ETH"
    assert engine.retry_sleep.waits == [1.0, 2.0]


async def test_an_unexpected_status_is_a_step_failure(engine: Engine) -> None:
    engine.sandbox.add_fault("GET /v1/wallet/balance status=418 body=proxy")
    result, _ = await engine.run(BALANCE)
    assert "HTTP 418" in (step(result, "b").reason or "")
    assert engine.retry_sleep.waits == []  # not a status worth repeating


async def test_html_with_status_200_is_a_step_failure(engine: Engine, mangler: Mangler) -> None:
    mangler.answer("GET", "/v1/wallet/balance", 200, "<html>login</html>", "text/html")
    result, _ = await engine.run(BALANCE, daemon_url=mangler.url)
    reason = step(result, "b").reason or ""
    assert "GET /v1/wallet/balance" in reason and "not a valid" in reason
    assert result.exit_code is ExitCode.FAILED


async def test_an_answer_missing_fields_is_a_step_failure(engine: Engine, mangler: Mangler) -> None:
    mangler.answer("GET", "/v1/wallet/balance", 200, '{"network": "ethereum-sepolia"}')
    mangler.answer("GET", "/v1/wallet/assets", 200, '{"assets": [{"symbol": "ETH"}]}')
    mangler.answer("GET", "/v1/transactions/pending", 200, "[]")
    result, _ = await engine.run(
        """
        steps:
          - id: b
            continue_on_error: true
            balance: { wallet: agent }
          - id: a
            continue_on_error: true
            assets: { wallet: agent }
          - id: p
            continue_on_error: true
            pending: { wallet: agent }
        """,
        daemon_url=mangler.url,
    )
    for step_id in ("b", "a", "p"):
        failed = step(result, step_id)
        assert failed.status is StepStatus.FAILED, step_id
        assert "is not a valid" in (failed.reason or ""), failed.reason
    assert "balance" in (step(result, "b").reason or "")


async def test_connect_info_that_lists_no_wallets_fails_the_first_step(
    engine: Engine, mangler: Mangler
) -> None:
    mangler.answer("GET", "/v1/connect-info", 200, "{}")
    result, _ = await engine.run(BALANCE, daemon_url=mangler.url)
    assert step(result, "b").status is StepStatus.FAILED
    assert "connect" in (step(result, "b").reason or "").lower()


async def test_a_garbled_send_answer_is_reconciled_not_trusted(
    engine: Engine, mangler: Mangler
) -> None:
    # the daemon created the transaction; the answer that came back is not its JSON
    mangler.answer("POST", "/v1/transactions/send", 201, "<html>oops</html>", "text/html")
    result, _ = await engine.run(SEND, daemon_url=mangler.url)
    # the garbled answer came from the proxy, so nothing reached the sandbox: proven absent,
    # retried, and every retry is garbled the same way -> never "sent" on a guess
    assert engine.sandbox.transaction_count() == 0
    assert step(result, "s").status is StepStatus.FAILED
    assert result.exit_code is ExitCode.FAILED
    with engine.ledger() as ledger:
        (intent,) = ledger.sends(run_id=result.run_id)
    assert intent.state is SendState.NOT_SENT


async def test_a_transaction_answer_missing_its_status_fails_the_wait(
    engine: Engine, mangler: Mangler
) -> None:
    sent, _ = await engine.run(SEND)
    tx_id = outputs(sent, "s")["id"]
    mangler.answer("GET", f"/v1/transactions/{tx_id}", 200, f'{{"id": "{tx_id}"}}')
    result, _ = await engine.run(
        f'steps:\n  - id: w\n    wait: {{ transaction: "{tx_id}" }}\n', daemon_url=mangler.url
    )
    reason = step(result, "w").reason or ""
    assert "status" in reason and "not a valid" in reason


async def test_a_malformed_transaction_id_is_a_step_failure(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        vars: { tx: "01a213cb-d954-70b0-8ac5-9416ad923333" }
        steps:
          - id: w
            wait: { transaction: "${{ vars.tx }}" }
        """,
        variables={"tx": "../wallet/balance"},
    )
    assert step(result, "w").status is StepStatus.FAILED
    assert "not a valid id" in (step(result, "w").reason or "")


async def test_an_unreachable_daemon_fails_the_step_naming_the_address(engine: Engine) -> None:
    result, _ = await engine.run(BALANCE, daemon_url="http://127.0.0.1:1")
    reason = step(result, "b").reason or ""
    assert "could not reach the daemon at http://127.0.0.1:1" in reason
    assert engine.retry_sleep.waits == [1.0, 2.0, 4.0]
    assert result.exit_code is ExitCode.FAILED
