"""Sends still going (``/status``'s ``sends_in_flight``, the page's "Sends in flight" and
approval waits): which sends count, and the approval note the wait step keeps."""

from __future__ import annotations

from pathlib import Path

from runner.client import TransferRequest
from runner.ledger import AWAITING_APPROVAL, Ledger
from runner.serve.inflight import sends_in_flight

REQUEST = TransferRequest(
    to="0x7099", raw=5, network="ethereum-sepolia", wallet_id="w-1", symbol="ETH"
)


def intend(ledger: Ledger, step: str) -> str:
    key = f"pb/run-1/{step}"
    ledger.intend_send(key=key, run_id="run-1", playbook="pb", step_id=step, request=REQUEST)
    return key


def test_only_sends_still_going_are_listed(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    try:
        intended = intend(ledger, "intended")
        for step, status in [("pending", "PENDING"), ("queued", "QUEUED"), ("done", "CONFIRMED")]:
            ledger.mark_accepted(intend(ledger, step), f"tx-{step}", status)
        ledger.mark_accepted(intend(ledger, "failed"), "tx-failed", "PENDING")
        ledger.record_tx_status("tx-failed", "FAILED")
        ledger.mark_unknown(intend(ledger, "unknown"), "a person must look")
        ledger.mark_not_sent(intend(ledger, "refused"), "refused")
        going = sends_in_flight(ledger, lambda playbook: f"http://daemon-of-{playbook}")
        assert [send["step"] for send in going] == ["intended", "pending", "queued"]
        assert going[0]["key"] == intended and going[0]["state"] == "intended"
        assert (
            going[1]["tx_status"] == "PENDING" and going[1]["daemon_url"] == "http://daemon-of-pb"
        )
        assert all(send["waiting_for"] is None for send in going)
    finally:
        ledger.close()


def test_an_approval_wait_is_noted_then_cleared_and_never_hides_a_note(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    try:
        ledger.mark_accepted(intend(ledger, "fund"), "tx-1", "PENDING")
        ledger.record_tx_status("tx-1", "QUEUED", awaiting_approval=True)
        assert [send["waiting_for"] for send in sends_in_flight(ledger)] == ["approval"]
        assert ledger.send("pb/run-1/fund").note == AWAITING_APPROVAL  # type: ignore[union-attr]
        ledger.record_tx_status("tx-1", "EXECUTING")  # approved
        assert [send["waiting_for"] for send in sends_in_flight(ledger)] == [None]
        assert ledger.send("pb/run-1/fund").note is None  # type: ignore[union-attr]
        # an adopted send keeps its note (why it was adopted): the record wins
        ledger.mark_accepted(intend(ledger, "adopted"), "tx-2", "PENDING", note="adopted: 502")
        ledger.record_tx_status("tx-2", "QUEUED", awaiting_approval=True)
        ledger.record_tx_status("tx-2", "EXECUTING")
        assert ledger.send("pb/run-1/adopted").note == "adopted: 502"  # type: ignore[union-attr]
    finally:
        ledger.close()
