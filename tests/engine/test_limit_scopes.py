"""Whose sends a limit counts (issue #19 part 2), against the sandbox daemon over HTTP.

A playbook's ``limits:`` count that playbook's sends (by its ``name:``); the runner
config file's count every send in the ledger; the same symbol on another network never
counts. The issue's case first: after other playbooks sent 0.28 ETH from the same ledger,
recurring-payments (``max_per_day: 0.01 ETH``) refused its first payment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client import RetryPolicy, TransferRequest, WAIaaSClient
from runner.engine.config import parse_config
from runner.engine.connection import environment
from runner.engine.executor import execute
from runner.engine.launch import new_run_id
from runner.engine.results import ExitCode, RunResult, StepStatus
from runner.engine.scope import Mode, Run, RunScope
from runner.ledger import Ledger, SendState
from runner.playbook import load_playbook
from runner.playbook.limits import Limits
from tests.engine.conftest import HEAD, Collector, Engine, FakeSleep, outputs, step

ROOT = Path(__file__).resolve().parents[2]


async def run_file(
    engine: Engine,
    path: Path,
    *,
    config: str | None = None,
    mode: Mode = "run",
    token: str | None = None,
) -> RunResult:
    """Like ``engine.execute``, for a playbook file as it is (the sandbox's clock moves
    when a wait polls), with an optional runner config's limits."""
    playbook = load_playbook(path)
    limits = parse_config(config, "config.yaml").limits if config else Limits()
    with Ledger(engine.state, clock=engine.sandbox.clock) as ledger:
        async with WAIaaSClient(
            engine.sandbox.url, token or engine.sandbox.token, retry_policy=RetryPolicy()
        ) as client:
            scope = RunScope(
                playbook=playbook,
                client=client,
                ledger=ledger,
                run_id=new_run_id(),
                mode=mode,
                config_limits=limits,
                clock=engine.sandbox.clock,
                sleep=FakeSleep(engine.sandbox),
            )
            declared = environment(playbook, {"WAIAAS_URL": engine.sandbox.url})
            run = Run(scope, env={k: v for k, v in declared.items() if v is not None})
            run.values.set_vars({})
            return await execute(run, Collector())


def named(engine: Engine, name: str, body: str) -> Path:
    return engine.write(body, HEAD.replace("name: engine-test", f"name: {name}"))


def send_body(amount: str, limits: str = "") -> str:
    return f"""
        {limits}
        steps:
          - id: pay
            send: {{ from: treasury, to: agent, amount: "{amount}" }}
    """


async def test_other_playbooks_sends_do_not_eat_a_playbooks_daily_cap(engine: Engine) -> None:
    # 0.28 ETH from other playbooks today: one run here, the rest recorded by earlier runs
    # (sent through the sandbox, sums that size would reach the treasury's APPROVAL tier)
    result = await run_file(engine, named(engine, "top-up", send_body("0.005 ETH")))
    assert result.exit_code is ExitCode.OK, result.summary()
    with Ledger(engine.state, clock=engine.sandbox.clock) as ledger:
        _record(ledger, "sweeper/r1/pay", "sweeper", 15 * 10**16, "ethereum-sepolia")
        _record(ledger, "payouts/r1/pay", "payouts", 125 * 10**15, "ethereum-sepolia")
        assert ledger.spent_since("ETH", 0, network="ethereum-sepolia") == 28 * 10**16

    # the shipped recipe, unchanged: max_per_day 0.01 ETH, three payments of 0.009 ETH
    result = await run_file(engine, ROOT / "playbooks" / "recurring-payments.yaml")

    assert result.exit_code is ExitCode.OK, result.summary()
    assert [step(result, f"pay_{who}").status for who in ("alice", "bob", "carol")] == [
        StepStatus.OK
    ] * 3
    limits = outputs(result, "pay_alice")["limits"]
    assert "max_per_day 0.01 ETH (counting this playbook's sends on ethereum-sepolia)" in limits
    with Ledger(engine.state) as ledger:
        paid = ledger.sends(playbook="recurring-payments")
        assert [s.state for s in paid] == [SendState.ACCEPTED] * 3
        assert ledger.spent_since("ETH", 0, playbook="recurring-payments") == 9 * 10**15

    # its own cap still holds: a second month's run the same day would pass 0.01 ETH
    again = await run_file(engine, ROOT / "playbooks" / "recurring-payments.yaml")
    assert again.exit_code is ExitCode.FAILED
    assert (step(again, "pay_alice").reason or "").startswith(
        "limit max_per_day (playbook): 0.009 ETH already sent in the last 24 h"
    )


async def test_the_runner_config_cap_counts_every_playbook(engine: Engine) -> None:
    config = 'limits: { max_per_day: "0.01 ETH" }\n'
    first = await run_file(engine, named(engine, "alpha", send_body("0.006 ETH")), config=config)
    assert first.exit_code is ExitCode.OK, first.summary()

    # beta's own cap is looser and untouched; the config's counts alpha's send
    body = send_body("0.006 ETH", 'limits: { max_per_day: "1 ETH" }')
    second = await run_file(engine, named(engine, "beta", body), config=config)

    assert second.exit_code is ExitCode.FAILED
    assert step(second, "pay").reason == (
        "limit max_per_day (runner config): 0.006 ETH already sent in the last 24 h "
        "(in-flight sends included); 0.006 ETH more would pass 0.01 ETH (counting every "
        "playbook's sends in this ledger on ethereum-sepolia); nothing was sent"
    )
    assert engine.sandbox.transaction_count() == 1


def _record(
    ledger: Ledger, key: str, playbook: str, raw: int, network: str | None, symbol: str = "ETH"
) -> None:
    """A send recorded by another run (accepted), on ``network`` (None: not recorded)."""
    ledger.intend_send(
        key=key,
        run_id=key.split("/")[1],
        playbook=playbook,
        step_id="pay",
        request=TransferRequest("0xabc", raw, network=network, symbol=symbol),
    )
    ledger.mark_accepted(key, f"tx-{key}", "CONFIRMED")


async def test_the_same_symbol_on_another_network_never_counts(engine: Engine) -> None:
    with Ledger(engine.state, clock=engine.sandbox.clock) as ledger:
        # mainnet ETH of this very playbook, and of another: not the sepolia ETH it sends
        _record(ledger, "daily/r0/pay", "daily", 5 * 10**18, "ethereum-mainnet")
        _record(ledger, "other/r0/pay", "other", 5 * 10**18, "ethereum-mainnet")
    config = 'limits: { max_per_day: "0.02 ETH" }\n'
    body = send_body("0.01 ETH", 'limits: { max_per_day: "0.015 ETH", max_per_run: "0.01 ETH" }')

    result = await run_file(engine, named(engine, "daily", body), config=config)

    assert result.exit_code is ExitCode.OK, result.summary()
    assert engine.sandbox.transaction_count() == 1


async def test_a_send_whose_network_was_not_recorded_counts_toward_every_network(
    engine: Engine,
) -> None:
    """A row without a network (a request sent without one) may have been on any network:
    it counts, so never more than the cap leaves."""
    with Ledger(engine.state, clock=engine.sandbox.clock) as ledger:
        _record(ledger, "daily/r0/pay", "daily", 10**16, None)
    body = send_body("0.01 ETH", 'limits: { max_per_day: "0.015 ETH" }')

    result = await run_file(engine, named(engine, "daily", body))

    assert result.exit_code is ExitCode.FAILED
    assert "0.01 ETH already sent in the last 24 h" in (step(result, "pay").reason or "")
    assert engine.sandbox.transaction_count() == 0


async def test_two_files_with_one_name_share_its_cap(engine: Engine) -> None:
    """A playbook is known to the ledger by its name (its send keys and runs are), so two
    files that share a name share one day's cap: counted together, never more sent."""
    limits = 'limits: { max_per_day: "0.01 ETH" }'
    first = await run_file(engine, named(engine, "payroll", send_body("0.006 ETH", limits)))
    second = await run_file(engine, named(engine, "payroll", send_body("0.006 ETH", limits)))
    assert first.exit_code is ExitCode.OK
    assert second.exit_code is ExitCode.FAILED
    assert "counting this playbook's sends" in (step(second, "pay").reason or "")


async def test_plan_names_each_caps_scope(engine: Engine) -> None:
    config = 'limits: { max_per_day: "1 ETH" }\n'
    body = send_body("0.01 ETH", 'limits: { max_per_day: "0.5 ETH" }')
    result = await run_file(engine, named(engine, "planned", body), config=config, mode="plan")
    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "pay")["limits"] == [
        "max_per_day 0.5 ETH (counting this playbook's sends on ethereum-sepolia)",
        "max_per_day 1 ETH (counting every playbook's sends in this ledger on ethereum-sepolia)",
    ]


async def test_the_ledger_holds_each_scope_with_the_intent(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's send lands between the early check and the intent (here: the
    early check is made blind to it); the cap written in the intent's own transaction
    refuses, naming the scope, and nothing is posted."""
    with Ledger(engine.state, clock=engine.sandbox.clock) as ledger:
        _record(ledger, "racer/r0/pay", "racer", 8 * 10**15, "ethereum-sepolia")
    monkeypatch.setattr(Ledger, "spent_since", lambda *args, **kwargs: 0)
    config = 'limits: { max_per_day: "0.01 ETH" }\n'
    body = send_body("0.005 ETH", 'limits: { max_per_day: "0.01 ETH" }')

    result = await run_file(engine, named(engine, "late", body), config=config)

    assert result.exit_code is ExitCode.FAILED
    assert step(result, "pay").reason == (
        "limit max_per_day (runner config: every playbook's sends in this ledger on "
        "ethereum-sepolia): 8000000000000000 smallest units of ETH already sent in the last "
        "24 h (in-flight sends included, by any process using this ledger); 5000000000000000 "
        "more would pass the cap of 10000000000000000; nothing was sent"
    )
    assert engine.sandbox.transaction_count() == 0
    with Ledger(engine.state) as ledger:
        assert ledger.sends(playbook="late") == []


SOLANA = """\
version: 1
name: sol-payouts
env: {WAIAAS_URL: ~, WAIAAS_SESSION_TOKEN: ~}
daemon: {url: "${{ env.WAIAAS_URL }}", token: "${{ env.WAIAAS_SESSION_TOKEN }}", wallet: ops}
wallets:
  ops: {name: solana-ops}        # no network: the wallet's default, as the daemon says it
limits: {max_per_day: "1 SOL"}
steps:
  - id: pay
    send: {to: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM", amount: "AMOUNT"}
"""


async def test_a_wallets_default_network_is_the_network_counted(engine: Engine) -> None:
    """The send names no network: it goes to the wallet's default (solana-devnet), which
    is what its cap counts — not the playbook's SOL on solana-mainnet."""
    _, token = engine.sandbox.create_session(["solana-ops"])
    with Ledger(engine.state, clock=engine.sandbox.clock) as ledger:
        _record(ledger, "sol-payouts/r0/a", "sol-payouts", 4 * 10**9, "solana-mainnet", "SOL")
        _record(ledger, "sol-payouts/r0/b", "sol-payouts", 5 * 10**8, "solana-devnet", "SOL")
    path = engine.tmp_path / "sol.yaml"

    path.write_text(SOLANA.replace("AMOUNT", "0.4 SOL"), encoding="utf-8")
    first = await run_file(engine, path, token=token)
    assert first.exit_code is ExitCode.OK, first.summary()
    assert outputs(first, "pay")["network"] == "solana-devnet"

    path.write_text(SOLANA.replace("AMOUNT", "0.2 SOL"), encoding="utf-8")
    second = await run_file(engine, path, token=token)
    assert second.exit_code is ExitCode.FAILED
    assert step(second, "pay").reason == (
        "limit max_per_day (playbook): 0.9 SOL already sent in the last 24 h (in-flight "
        "sends included); 0.2 SOL more would pass 1 SOL (counting this playbook's sends on "
        "solana-devnet); nothing was sent"
    )
