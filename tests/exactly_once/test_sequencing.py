"""A wallet's next send is posted only once the daemon reports the previous one past
signing (issue #19): across steps, runs and processes sharing the ledger; bounded; reported
in the step output; a transaction that FAILED before broadcast is never posted again."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

import runner.engine.pipeline
from runner.client import TransferRequest, WAIaaSClient
from runner.engine.pipeline import FIRST_POLL, LAST_POLL, NO_WAIT
from runner.engine.results import StepStatus
from runner.ledger import Ledger, SendState
from runner.sandbox import Clock, Sandbox
from tests.exactly_once.sequencing import START, FrozenWorld, output, sends_body

ROOT = Path(__file__).resolve().parents[2]
RECURRING = ROOT / "playbooks" / "recurring-payments.yaml"
AGENT = "0xd4f0bc5a29de06b510f9aa428f1eedba926012b5"  # the default fixture's agent


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[FrozenWorld]:
    async with Sandbox(port=0, clock=Clock(frozen=START)) as sandbox:
        yield FrozenWorld(tmp_path, sandbox)


async def test_recurring_payments_pays_all_three_and_each_confirms(world: FrozenWorld) -> None:
    """The shipped recipe, unchanged: three sends from one wallet, then three waits."""
    result, _ = await world.run_file(RECURRING)
    assert result.exit_code == 0, [(s.step_id, s.reason) for s in result.steps]
    txs = world.txs()
    assert [tx.status for tx in txs] == ["CONFIRMED"] * 3
    assert [int(tx.amount) for tx in txs] == [4 * 10**15, 3 * 10**15, 2 * 10**15]
    ids = [output(result, step)["id"] for step in ("pay_alice", "pay_bob", "pay_carol")]
    assert ids == [tx.id for tx in txs]
    assert output(result, "pay_alice")["pipeline"] == {"waited": 0, "after": []}
    for step, previous in (("pay_bob", ids[0]), ("pay_carol", ids[1])):
        pipeline = output(result, step)["pipeline"]
        assert pipeline["after"] == [previous]  # it waited for the one before it
        assert Decimal("0.1") <= Decimal(str(pipeline["waited"])) <= Decimal("0.2")  # one turn


async def test_without_the_wait_the_sandbox_fails_the_later_sends(
    world: FrozenWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tests above mean something: a runner that posts right after the previous 201
    (today's main) gets the daemon's recorded failures from the sandbox."""

    async def no_sequencing(*args: object, **kwargs: object) -> object:
        return NO_WAIT

    monkeypatch.setattr(runner.engine.pipeline, "wait_for_earlier_sends", no_sequencing)
    result, _ = await world.run_file(RECURRING)
    assert result.exit_code == 1
    txs = world.txs()
    assert [tx.status for tx in txs] == ["CONFIRMED", "FAILED", "FAILED"]
    assert txs[1].error is not None and txs[1].error.startswith("ENOENT: no such file")
    assert txs[2].error == "NONCE_TOO_LOW (stale retry exhausted)"


async def test_twelve_back_to_back_sends_of_mixed_kinds_all_confirm(world: FrozenWorld) -> None:
    """Native INSTANT and NOTIFY sends, token sends and a DELAY send last (queued: past
    signing), twelve in a row from one wallet (recorded: 9 of 12 FAILED unsequenced)."""
    steps = ["steps:"]
    kinds = ["0.001 ETH"] * 5 + ["0.02 ETH"] * 2 + ["1 USDC"] * 4 + ["0.07 ETH"]
    for index, amount in enumerate(kinds):
        steps.append(f"  - id: s{index}")
        steps.append(f'    send: {{ from: treasury, to: agent, amount: "{amount}" }}')
    body = "tokens:\n  USDC: { network: ethereum-sepolia, decimals: 6, address: "
    body += '"0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238" }\n' + "\n".join(steps) + "\n"
    result, _ = await world.run(body, "twelve")
    assert result.exit_code == 0, [(s.step_id, s.reason) for s in result.steps]
    txs = world.txs()
    assert len(txs) == 12
    assert [tx.status for tx in txs] == ["CONFIRMED"] * 12, [(tx.status, tx.error) for tx in txs]
    assert [tx.tier for tx in txs][-1] == "DELAY"
    for index in range(1, 12):  # each waited for exactly the one before it
        assert output(result, f"s{index}")["pipeline"]["after"] == [txs[index - 1].id]
    # polls back off from FIRST_POLL and never beyond LAST_POLL
    assert world.sleeps and min(world.sleeps) == FIRST_POLL and max(world.sleeps) <= LAST_POLL


async def test_sends_wait_across_runs_of_different_playbooks(world: FrozenWorld) -> None:
    first, _ = await world.run(sends_body(1), "first")
    second, _ = await world.run(sends_body(2), "second")
    assert first.exit_code == second.exit_code == 0
    txs = world.txs()
    assert [tx.status for tx in txs] == ["CONFIRMED"] * 3
    assert output(second, "pay_0")["pipeline"]["after"] == [txs[0].id]
    with Ledger(world.state) as ledger:  # the gate noted what it learnt
        statuses = {s.tx_status for s in ledger.sends(playbook="first")}
    assert statuses == {"SUBMITTED"}


async def test_a_send_of_a_process_that_died_after_the_answer_is_waited_on(
    world: FrozenWorld,
) -> None:
    """The ledger holds an accepted send (PENDING) of a process that is gone."""
    tx_id = await _post_outside(world)
    with Ledger(world.state, clock=world.clock) as ledger:
        _intend(ledger, "dead/run-1/pay", world)
        ledger.mark_accepted("dead/run-1/pay", tx_id, "PENDING")
    result, reporter = await world.run(sends_body(1), "alive")
    assert result.exit_code == 0
    assert output(result, "pay_0")["pipeline"]["after"] == [tx_id]
    assert any("to leave signing" in message for _, message in reporter.logs)
    assert [tx.status for tx in world.txs()] == ["CONFIRMED"] * 2


async def test_a_send_of_a_process_that_died_mid_request_is_waited_out(world: FrozenWorld) -> None:
    """An intent without an answer (the process died while the request was out): whatever
    it created has left signing once that request would have timed out."""
    with Ledger(world.state, clock=world.clock) as ledger:
        _intend(ledger, "dead/run-1/pay", world)
    await _post_outside(world)  # what the dead process's request created
    result, _ = await world.run(sends_body(1), "alive", request_timeout=5.0)
    assert result.exit_code == 0
    pipeline = output(result, "pay_0")["pipeline"]
    assert pipeline["after"] == ["request dead/run-1/pay"]
    assert pipeline["waited"] == 7  # request timeout 5 s + the 2 s grace
    assert [tx.status for tx in world.txs()] == ["CONFIRMED"] * 2


async def test_a_transaction_this_daemon_does_not_know_holds_nothing(world: FrozenWorld) -> None:
    with Ledger(world.state, clock=world.clock) as ledger:
        _intend(ledger, "elsewhere/run-1/pay", world)
        ledger.mark_accepted("elsewhere/run-1/pay", str(uuid.uuid4()), "PENDING")
    result, _ = await world.run(sends_body(1), "alive")
    assert result.exit_code == 0
    assert output(result, "pay_0")["pipeline"]["after"] == []


async def test_the_wait_is_bounded_and_a_late_send_is_not_posted(world: FrozenWorld) -> None:
    world.sandbox.set_signing(pipeline_seconds=120)  # a daemon that takes two minutes
    first, _ = await world.run(sends_body(1), "slow")
    late, _ = await world.run(sends_body(1), "late", pipeline_timeout=5.0)
    assert first.exit_code == 0 and late.exit_code == 1
    step = next(s for s in late.steps if s.step_id == "pay_0")
    assert step.status is StepStatus.FAILED
    reason = step.reason or ""
    assert "still signing after the pipeline timeout (5s)" in reason
    assert "not posted (nothing was sent)" in reason and "--pipeline-timeout" in reason
    assert step.output["sent"] is False and Decimal(str(step.output["pipeline"]["waited"])) >= 5
    assert world.sandbox.transaction_count() == 1
    assert world.sends("late") == []  # it stopped before writing an intent
    again, _ = await world.run(sends_body(1), "late")  # the default 60 s is not enough
    assert again.exit_code == 1
    patient, _ = await world.run(sends_body(1), "late", pipeline_timeout=300.0)
    assert patient.exit_code == 0
    assert [tx.status for tx in world.txs()] == ["CONFIRMED"] * 2


async def test_the_runner_config_sets_the_bound(world: FrozenWorld) -> None:
    config = world.tmp_path / "config.yaml"
    config.write_text("pipeline_timeout: 2s\n", encoding="utf-8")
    world.sandbox.set_signing(pipeline_seconds=30)
    await world.run(sends_body(1), "slow")
    late, _ = await world.run(sends_body(1), "late", config=config)
    assert "pipeline timeout (2s)" in (late.steps[0].reason or "")
    overridden, _ = await world.run(sends_body(1), "late", config=config, pipeline_timeout=60.0)
    assert overridden.exit_code == 0


async def test_when_the_daemon_cannot_say_nothing_is_posted(world: FrozenWorld) -> None:
    first, _ = await world.run(sends_body(1), "first")
    assert first.exit_code == 0
    world.sandbox.add_fault("GET /v1/transactions/* status=500 times=20")
    second, _ = await world.run(sends_body(1), "second")
    world.sandbox.clear_faults()
    reason = second.steps[0].reason or ""
    assert second.exit_code == 1 and "cannot tell whether earlier transaction" in reason
    assert "not posted (nothing was sent)" in reason
    assert world.sandbox.transaction_count() == 1


async def test_a_transaction_failed_before_broadcast_is_never_posted_again(
    world: FrozenWorld,
) -> None:
    """Another client of the wallet signs at the same instant: the runner's send ends
    FAILED in the daemon. Neither --resume nor a rerun of the run posts it again."""
    await _post_outside(world)  # not in the ledger: the runner cannot know it
    body = sends_body(1) + (
        "  - id: settle\n"
        '    wait: { transaction: "${{ steps.pay_0.id }}", until: CONFIRMED, timeout: 1m }\n'
    )
    path = world.write(body, "victim")
    failed, _ = await world.run_file(path, run_id="20261206T000000Z-victim")
    assert failed.exit_code == 1
    assert "ENOENT: no such file or directory" in (failed.steps[-1].reason or "")
    resumed, _ = await world.run_file(path, resume=True)
    rerun, _ = await world.run_file(path, run_id="20261206T000000Z-victim")
    for again in (resumed, rerun):
        assert again.exit_code == 1  # the wait still finds it FAILED
        assert output(again, "pay_0")["id"] == output(failed, "pay_0")["id"]
    assert output(rerun, "pay_0")["adopted"] is True  # found in the ledger, not posted
    txs = world.txs()
    assert [tx.status for tx in txs] == ["CONFIRMED", "FAILED"]  # two, never a third
    [intent] = world.sends("victim")
    assert intent.state is SendState.ACCEPTED and intent.tx_status == "FAILED"


async def test_concurrent_runs_in_one_process_take_turns(world: FrozenWorld) -> None:
    """Two runs at once (as serve runs them), sharing one ledger object, one wallet."""
    with Ledger(world.state, clock=world.clock) as ledger:
        results = await asyncio.gather(
            world.run(sends_body(3, prefix="a"), "run-a", ledger=ledger),
            world.run(sends_body(3, prefix="b"), "run-b", ledger=ledger),
        )
    assert [r.exit_code for r, _ in results] == [0, 0]
    txs = world.txs()
    assert [tx.status for tx in txs] == ["CONFIRMED"] * 6
    intents = sorted(
        (s for name in ("run-a", "run-b") for s in world.sends(name)), key=lambda s: s.intended_at
    )
    for earlier, later in itertools.pairwise(intents):
        assert later.tx_id is not None and earlier.tx_id is not None
        # each later send was posted after the earlier one was reported past signing
        waited_for = next(
            output(r, s.step_id)["pipeline"]["after"]
            for r, _ in results
            for s in r.steps
            if s.output.get("id") == later.tx_id
        )
        assert waited_for == [earlier.tx_id]


async def _post_outside(world: FrozenWorld) -> str:
    """A send of the treasury posted by someone else (straight to the daemon)."""
    async with WAIaaSClient(world.sandbox.url, world.sandbox.token) as client:
        sent = await client.send_token(
            AGENT,
            10**15,
            network="ethereum-sepolia",
            wallet_id=world.sandbox.wallet("treasury")["id"],
        )
    return sent.id


def _intend(ledger: Ledger, key: str, world: FrozenWorld) -> None:
    playbook, run_id, step_id = key.split("/")
    ledger.intend_send(
        key=key,
        run_id=run_id,
        playbook=playbook,
        step_id=step_id,
        request=TransferRequest(
            AGENT,
            10**15,
            network="ethereum-sepolia",
            wallet_id=world.sandbox.wallet("treasury")["id"],
            symbol="ETH",
        ),
    )


async def test_a_status_the_runner_does_not_know_is_waited_out(world: FrozenWorld) -> None:
    """A newer daemon's status is not taken as past signing: the bound decides."""
    first, _ = await world.run(sends_body(1), "first")
    tx_id = output(first, "pay_0")["id"]
    world.sandbox.core.store.update_tx(tx_id, status="PREPARING", next_at=None)
    held, _ = await world.run(sends_body(1), "held", pipeline_timeout=3.0)
    assert held.exit_code == 1
    assert f"{tx_id} (PREPARING) still signing" in (held.steps[0].reason or "")
    assert world.sandbox.transaction_count() == 1
    world.sandbox.core.store.update_tx(tx_id, status="CONFIRMED")
    released, _ = await world.run(sends_body(1), "held")
    assert released.exit_code == 0
