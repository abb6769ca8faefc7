"""A second SIGTERM/SIGINT exits at once, without waiting for the send in flight; the next
start reconciles what was in flight and sends nothing twice (issue #11, "Graceful stop")."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from runner.ledger import Ledger, SendState
from runner.ledger.slots import SlotLog
from tests.exactly_once.processes import wait_until
from tests.serve.test_signals import TWO_SENDS, serving

HOLD = 30  # the daemon keeps its answer to the first send this long


def test_a_second_signal_exits_at_once_and_the_next_start_reconciles(tmp_path: Path) -> None:
    with serving(tmp_path) as serve:
        serve.write("payout", "{ interval: 1h }", TWO_SENDS)
        now = time.time()
        slot = now - now % 3600
        log = SlotLog(serve.ledger)
        log.started("payout", slot, "seeded", 0.0)  # an interrupted slot: runs at start
        log.close()
        serve.daemon.add_fault(method="POST", path="/v1/transactions/send", hold=HOLD, times=1)
        process = serve.start()
        wait_until(lambda: serve.daemon.tx_count() == 1, "the send reached the daemon", 30)
        process.send_signal(signal.SIGTERM)  # first: drain (would wait for the held answer)
        time.sleep(0.5)
        asked = time.monotonic()
        code, lines = serve.stop(signal.SIGINT)  # second: exit now
        waited = time.monotonic() - asked
        assert code == 1, lines
        assert waited < HOLD / 2, f"exited after {waited:.1f}s: it waited for the send"
        assert any("again: exiting now" in line.get("message", "") for line in lines), lines
        with Ledger(serve.ledger) as ledger:
            sends = {s.step_id: s for s in ledger.sends(playbook="payout")}
        assert "tip" not in sends or sends["tip"].state is SendState.NOT_SENT
        # the next start settles the send that was in flight and finishes the slot
        serve.start()
        wait_until(lambda: serve.slots("payout")[-1].outcome == "ok", "the slot finished", 60)
        code, _ = serve.stop()
        assert code == 0
        assert serve.daemon.tx_count() == 2  # fund adopted, not posted again; tip once
        with Ledger(serve.ledger) as ledger:
            sends = {s.step_id: s for s in ledger.sends(playbook="payout")}
        assert sends["fund"].state is SendState.ACCEPTED and sends["fund"].tx_id
        assert sends["tip"].state is SendState.ACCEPTED
