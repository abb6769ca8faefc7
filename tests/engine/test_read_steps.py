"""balance, assets and pending against the sandbox: outputs and failure modes."""

from __future__ import annotations

from decimal import Decimal

from runner.engine.results import ExitCode, StepStatus
from runner.playbook import Amount
from tests.engine.conftest import HEAD, Engine, outputs, statuses, step

TREASURY = "0x66fa9f9d3186b9c13a66b004fc8bb5f3359c4deb"
AGENT = "0xd4f0bc5a29de06b510f9aa428f1eedba926012b5"


async def test_balance_reads_native_and_token_amounts(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: eth
            balance: { wallet: treasury }
          - id: usdc
            balance: { wallet: treasury, token: USDC }
          - assert: >-
              steps.eth.amount == amount("10 ETH")
              and steps.usdc.amount > amount("4999.999999 USDC")
        """
    )
    assert result.exit_code is ExitCode.OK
    assert outputs(result, "eth") == {
        "skipped": False,
        "amount": "10 ETH",
        "raw": "10000000000000000000",  # past 2**53: a string, never a rounded number
        "decimals": 18,
        "symbol": "ETH",
        "network": "ethereum-sepolia",
        "address": TREASURY,
    }
    usdc = outputs(result, "usdc")
    assert (usdc["amount"], usdc["raw"], usdc["decimals"], usdc["symbol"]) == (
        "5000 USDC",
        "5000000000",  # smallest units: a string at every size
        6,
        "USDC",
    )


async def test_balance_defaults_to_daemon_wallet(engine: Engine) -> None:
    head = HEAD.replace("\nwallets:", "\n  wallet: agent\nwallets:")
    result, _ = await engine.run("steps:\n  - id: mine\n    balance: {}\n", head=head)
    assert outputs(result, "mine")["amount"] == "0.02 ETH"
    assert outputs(result, "mine")["address"] == AGENT


async def test_balance_of_an_unknown_wallet_name_fails_naming_the_wallets(engine: Engine) -> None:
    head = HEAD.replace("tokens:", "  ghost: { name: ghost }\ntokens:")
    result, _ = await engine.run(
        """
        steps:
          - id: g
            balance: { wallet: ghost }
          - log: never reached
        """,
        head=head,
    )
    assert result.exit_code is ExitCode.FAILED
    assert [s.step_id for s in result.steps] == ["g"]  # the run stopped at the failure
    reason = step(result, "g").reason or ""
    assert "no wallet named 'ghost'" in reason and "treasury, agent" in reason


async def test_balance_on_a_network_outside_the_wallets_environment_fails(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: wrong
            balance: { wallet: agent, network: ethereum-mainnet }
        """
    )
    failed = step(result, "wrong")
    assert failed.status is StepStatus.FAILED
    assert "ENVIRONMENT_NETWORK_MISMATCH" in (failed.reason or "")
    assert failed.output["amount"] is None  # declared outputs exist, null on failure


async def test_balance_refuses_a_token_whose_decimals_disagree_with_the_daemon(
    engine: Engine,
) -> None:
    head = HEAD.replace("decimals: 6", "decimals: 18")
    result, _ = await engine.run(
        "steps:\n  - id: u\n    balance: { wallet: treasury, token: USDC }\n", head=head
    )
    reason = step(result, "u").reason or ""
    assert result.exit_code is ExitCode.FAILED
    assert "the playbook says 18 decimals, the daemon says 6" in reason


async def test_balance_of_a_token_the_wallet_does_not_hold_is_zero(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: u
            balance: { wallet: agent, token: USDC }
          - assert: steps.u.amount == amount("0 USDC")
        """
    )
    assert result.exit_code is ExitCode.OK, step(result, "u").reason
    assert outputs(result, "u")["amount"] == "0 USDC"


async def test_assets_lists_balances_by_symbol(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: t
            assets: { wallet: treasury }
          - id: a
            assets: { wallet: agent }
          - assert: >-
              steps.t.balances.USDC == amount("5000 USDC")
              and steps.a.balances.USDC == amount("0 USDC")
        """
    )
    assert result.exit_code is ExitCode.OK
    assert outputs(result, "t") == {
        "skipped": False,
        "balances": {"ETH": "10 ETH", "USDC": "5000 USDC"},
        "symbols": ["ETH", "USDC"],
        "count": 2,
    }
    # a declared token the wallet does not hold still reads as 0, so conditions work
    assert outputs(result, "a")["balances"] == {"ETH": "0.02 ETH", "USDC": "0 USDC"}
    assert outputs(result, "a")["count"] == 1


async def test_assets_failure_is_a_step_failure(engine: Engine) -> None:
    engine.sandbox.add_fault("GET /v1/wallet/assets status=404 code=WALLET_NOT_FOUND")
    result, _ = await engine.run("steps:\n  - id: a\n    assets: { wallet: treasury }\n")
    assert statuses(result) == {"a": StepStatus.FAILED}
    assert "WALLET_NOT_FOUND" in (step(result, "a").reason or "")
    assert result.exit_code is ExitCode.FAILED


async def test_pending_lists_queued_transactions_with_their_age(engine: Engine) -> None:
    sandbox = engine.sandbox
    first, _ = await engine.run(
        """
        steps:
          - id: queued
            send: { from: treasury, to: agent, amount: "0.5 ETH" }   # APPROVAL tier
        """
    )
    tx_id = outputs(first, "queued")["id"]
    sandbox.advance(40)
    result, _, _ = await engine.execute(  # on the sandbox's clock, 40 s after the send
        """
        steps:
          - id: backlog
            pending: { wallet: treasury }
          - id: none
            pending: { wallet: agent }
        """
    )
    backlog = outputs(result, "backlog")
    assert 40 <= backlog["oldest_age"] <= 42
    assert backlog["count"] == 1 and backlog["ids"] == [tx_id]
    item = backlog["items"][0]
    assert (item["id"], item["status"], item["tier"], item["to"], item["amount"]) == (
        tx_id,
        "QUEUED",
        "APPROVAL",
        AGENT,
        "500000000000000000",
    )
    assert outputs(result, "none") == {
        "skipped": False,
        "count": 0,
        "ids": [],
        "items": [],
        "oldest_age": 0,
    }


async def test_pending_until_empty_polls_until_the_queue_drains(engine: Engine) -> None:
    result, _, sleep = await engine.execute(
        """
        steps:
          - id: delayed
            send: { from: treasury, to: agent, amount: "0.08 ETH" }   # DELAY tier, 5 s
          - id: drained
            pending: { wallet: treasury, until_empty: true, interval: 2s }
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "drained")["count"] == 0
    assert sleep.waits and all(wait <= 2 for wait in sleep.waits)
    assert 5 <= sum(sleep.waits) <= 10  # polled through the 5 s delay, not much longer


async def test_pending_until_empty_fails_at_the_step_timeout(engine: Engine) -> None:
    result, _, sleep = await engine.execute(
        """
        steps:
          - id: approval
            send: { from: treasury, to: agent, amount: "0.5 ETH" }   # waits for the owner
          - id: drained
            timeout: 30m   # well inside the owner's hour to approve
            pending: { wallet: treasury, until_empty: true, interval: 5m }
        """
    )
    failed = step(result, "drained")
    assert failed.status is StepStatus.FAILED
    assert failed.reason == "1 transaction(s) still pending on treasury after 1800s"
    assert failed.output["count"] == 1  # what it still saw is kept
    assert abs(sum(sleep.waits) - 1800) < 1  # the sandbox clock also follows wall time
    assert result.exit_code is ExitCode.FAILED


async def test_pending_answer_error_is_a_step_failure(engine: Engine) -> None:
    engine.sandbox.add_fault("GET /v1/transactions/pending status=500 code=INTERNAL_ERROR")
    result, _ = await engine.run("steps:\n  - id: p\n    pending: { wallet: treasury }\n")
    assert "INTERNAL_ERROR" in (step(result, "p").reason or "")
    assert result.exit_code is ExitCode.FAILED


def test_amount_outputs_are_exact() -> None:
    # the playbook-side value a condition compares is a Decimal amount, not a float
    assert Amount(Decimal("0.02"), "ETH") == Amount(Decimal("0.020"), "ETH")
