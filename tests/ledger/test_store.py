from __future__ import annotations

from pathlib import Path

import pytest

from runner.client import TransferRequest
from runner.ledger import CapExceeded, DailyCap, Ledger, SendState, StepRecord, default_ledger_path


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3", clock=clock)


def intend(
    ledger: Ledger,
    key: str = "pb/run-1/fund",
    amount: int = 10**18,
    daily_cap: DailyCap | None = None,
    **extra: str,
) -> None:
    ledger.intend_send(
        key=key,
        run_id=extra.get("run_id", "run-1"),
        playbook="pb",
        step_id="fund",
        request=TransferRequest(
            "0xabc",
            amount,
            network="ethereum-sepolia",
            wallet_id="w-1",
            symbol=extra.get("symbol", "ETH"),
        ),
        daily_cap=daily_cap,
    )


def test_intent_is_committed_and_readable_from_another_connection(ledger: Ledger) -> None:
    intend(ledger)
    other = Ledger(ledger.path)
    intent = other.send("pb/run-1/fund")
    assert intent is not None and intent.state is SendState.INTENDED
    assert intent.amount_raw == 10**18
    assert intent.request["amount"] == str(10**18)


def test_second_intent_for_a_key_keeps_the_first(ledger: Ledger) -> None:
    intend(ledger)
    ledger.mark_accepted("pb/run-1/fund", "tx-1", "PENDING")
    intend(ledger, amount=5)
    intent = ledger.send("pb/run-1/fund")
    assert intent is not None
    assert intent.amount_raw == 10**18 and intent.tx_id == "tx-1"


def test_state_transitions(ledger: Ledger, clock: Clock) -> None:
    intend(ledger)
    clock.now += 1
    ledger.mark_accepted("pb/run-1/fund", "tx-1", "PENDING")
    ledger.record_tx_status("tx-1", "CONFIRMED")
    intent = ledger.send("pb/run-1/fund")
    assert intent is not None
    assert (intent.state, intent.tx_id, intent.tx_status) == (
        SendState.ACCEPTED,
        "tx-1",
        "CONFIRMED",
    )
    assert intent.updated_at == 1_001.0
    claimed = ledger.claimed_tx_ids()
    assert "tx-1" in claimed and "tx-2" not in claimed


def test_unknown_key_update_is_an_error(ledger: Ledger) -> None:
    with pytest.raises(KeyError):
        ledger.mark_unknown("nope", "x")


def test_amounts_beyond_64_bits_survive(ledger: Ledger) -> None:
    intend(ledger, amount=10**30)
    assert ledger.spent_since("ETH", 0) == 10**30


def test_spent_counts_in_flight_and_excludes_failed_or_not_sent(
    ledger: Ledger, clock: Clock
) -> None:
    intend(ledger, "k1", 1)  # intended: in flight, counts
    intend(ledger, "k2", 10)
    ledger.mark_accepted("k2", "t2", "CONFIRMED")
    intend(ledger, "k3", 100)
    ledger.mark_accepted("k3", "t3", "FAILED")
    intend(ledger, "k4", 1_000)
    ledger.mark_not_sent("k4", "refused")
    intend(ledger, "k5", 10_000)
    ledger.mark_unknown("k5", "lost")
    intend(ledger, "k6", 100_000, symbol="USDC")
    assert ledger.spent_since("ETH", 0) == 1 + 10 + 10_000
    clock.now += 100
    intend(ledger, "k7", 7)
    assert ledger.spent_since("ETH", 1_050) == 7


def test_runs_and_steps(ledger: Ledger, clock: Clock) -> None:
    ledger.begin_run("pb", "run-1")
    ledger.save_steps(
        [StepRecord("agent", "ok", {"amount": "0.01"}, None, clock.now, clock.now)], "run-1"
    )
    assert ledger.last_unfinished_run("pb") is not None
    steps = ledger.steps("run-1")
    assert steps["agent"].output == {"amount": "0.01"}
    ledger.finish_run("run-1", "ok", 0)
    assert ledger.last_unfinished_run("pb") is None
    run = ledger.run("run-1")
    assert run is not None and run.exit_code == 0
    assert [r.run_id for r in ledger.runs("pb")] == ["run-1"]


def test_default_path_honours_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WAIAAS_RUNNER_STATE", str(tmp_path / "x.sqlite3"))
    assert default_ledger_path() == tmp_path / "x.sqlite3"
    monkeypatch.delenv("WAIAAS_RUNNER_STATE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_ledger_path() == tmp_path / "waiaas-runner" / "ledger.sqlite3"


def test_the_daily_cap_is_enforced_with_the_intent(ledger: Ledger, clock: Clock) -> None:
    cap = DailyCap(cap_raw=10, since=0)
    intend(ledger, "a", 6, cap)
    with pytest.raises(CapExceeded) as exceeded:
        intend(ledger, "b", 6, cap, run_id="r2")
    assert exceeded.value.spent_raw == 6
    assert ledger.send("b") is None  # nothing was written
    ledger.mark_not_sent("a", "refused")
    reopened = ledger.reopen("a", TransferRequest("0x3", 9, network="m", symbol="ETH"), cap)
    assert (reopened.to_address, reopened.amount_raw, reopened.network) == ("0x3", 9, "m")
    ledger.mark_not_sent("a", "refused again")
    with pytest.raises(CapExceeded):  # a reopened send judges itself by its new amount
        ledger.reopen("a", TransferRequest("0x3", 11, symbol="ETH"), cap)
