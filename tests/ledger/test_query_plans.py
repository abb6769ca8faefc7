"""What a run, serve's start-up, /status and history ask the ledger goes through an index
and a bound: no statement of theirs walks a whole table or sorts one, so their cost does
not grow with years of runs (the benchmark at ten million runs measures it; this pins the
class: every statement those paths execute, by its query plan)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from runner.client import TransferRequest
from runner.ledger import Ledger, SendState, StepRecord
from runner.ledger.slots import SlotLog

# a plan line that walks a whole table or index: a SCAN (through an index or not), or a
# search open at one end ("tx_id>?"), unless a LIMIT or a partial index bounds it (sorting
# what an equality search found, the steps of one run, is bounded and fine)
_UNBOUNDED = ("SCAN sends", "SCAN runs", "SCAN steps", "SCAN slots")


def _statements(ledger: Ledger) -> list[str]:
    seen: list[str] = []
    ledger._db.set_trace_callback(seen.append)
    return seen


def _full_walks(db: sqlite3.Connection, statements: list[str]) -> list[tuple[str, str]]:
    found = []
    for statement in statements:
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        for row in db.execute(f"EXPLAIN QUERY PLAN {statement}"):
            detail: str = row[3]
            bounded = "LIMIT" in statement.upper() or "sends_going" in detail  # partial index
            walks = detail.startswith(_UNBOUNDED) or re.search(r"\(\w+>\?\)$", detail)
            if walks and not bounded:
                found.append((statement, detail))
    return found


def test_the_run_serve_and_status_paths_read_through_indexes(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path, clock=lambda: 1_000.0) as ledger:
        for number in range(5):
            run_id = f"run-{number}"
            ledger.begin_run("pb", run_id, scheduled_for=900.0 + number)
            ledger.save_steps([StepRecord("a", "ok", None, None, 0, 0)], run_id)
            request = TransferRequest("0xabc", 10, network="n", wallet_id="w", symbol="ETH")
            ledger.intend_send(
                key=f"pb/{run_id}/fund", run_id=run_id, playbook="pb", step_id="fund",
                request=request,
            )  # fmt: skip
            ledger.mark_accepted(f"pb/{run_id}/fund", f"tx-{number}", "PENDING")
            ledger.finish_run(run_id, "ok", 0)
        SlotLog(path).skipped("pb", [1.0, 2.0], "missed: test")
    with Ledger(path) as ledger:
        executed = _statements(ledger)
        # a one-shot run, --resume, --scheduled-for
        ledger.last_run("pb")
        ledger.last_unfinished_run("pb")
        ledger.run("run-1")
        ledger.steps("run-1")
        ledger.sends(run_id="run-1")
        ledger.sends(playbook="pb", state=SendState.UNKNOWN)
        ledger.send("pb/run-1/fund")
        ledger.horizon()
        assert "tx-1" in ledger.claimed_tx_ids()
        # /status and the page
        ledger.sends(state=SendState.UNKNOWN)
        assert [send.key for send in ledger.sends_going()][:1] == ["pb/run-0/fund"]
        # history
        ledger.runs(None, 20)
        ledger.runs("pb", 20)
        ledger._db.set_trace_callback(None)
        assert len(executed) >= 13
        assert _full_walks(ledger._db, executed) == []
    slots = SlotLog(path)
    try:
        assert slots.latest("pb") is not None
        assert (
            _full_walks(
                slots._db, ["SELECT * FROM slots WHERE playbook = 'pb' ORDER BY slot DESC LIMIT 1"]
            )
            == []
        )
    finally:
        slots.close()


def test_a_wallets_earlier_sends_are_read_by_index(tmp_path: Path) -> None:
    """The pipeline asks, before every send, which earlier sends of the wallet may still be
    signing: only those (intended, unknown, accepted and not final) are read."""
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path, clock=lambda: 1_000.0) as ledger:
        states = {"confirmed": "CONFIRMED", "submitted": "SUBMITTED", "pending": "PENDING"}
        for name in (*states, "intended", "unknown", "other-wallet"):
            wallet = "w2" if name == "other-wallet" else "w"
            request = TransferRequest("0xabc", 1, network="n", wallet_id=wallet, symbol="ETH")
            ledger.intend_send(
                key=f"pb/{name}/fund", run_id=name, playbook="pb", step_id="fund",
                request=request,
            )  # fmt: skip
            if name in states:
                ledger.mark_accepted(f"pb/{name}/fund", f"tx-{name}", states[name])
            elif name == "unknown":
                ledger.mark_unknown(f"pb/{name}/fund", "lost")
        executed = _statements(ledger)
        going = {send.run_id for send in ledger.wallet_sends("w", since=0.0)}
        ledger._db.set_trace_callback(None)
        assert going == {"submitted", "pending", "intended", "unknown"}
        assert _full_walks(ledger._db, executed) == []


def test_a_ledger_without_the_index_of_sends_going_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        request = TransferRequest("0xabc", 1, network="n", wallet_id="w", symbol="ETH")
        ledger.intend_send(
            key="pb/r/fund", run_id="r", playbook="pb", step_id="fund", request=request
        )
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX sends_going")
    with Ledger(path) as ledger:
        assert [send.key for send in ledger.sends_going()] == ["pb/r/fund"]
        assert [send.key for send in ledger.wallet_sends("w", since=0.0)] == ["pb/r/fund"]
