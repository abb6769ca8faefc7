"""A full disk at each ledger write: a clean error naming what failed, nothing half-written.

Each case runs in a forked child whose file-size limit (``ulimit -f``) is lowered right
before the write under test, so that write — and only it — cannot grow the WAL. The
child reports what it saw; the parent then opens the ledger and checks it is sound and
holds exactly what was committed before.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from runner.client import TransferRequest
from runner.ledger import Ledger, LedgerError, LedgerWriteFailed, SendState, StepRecord
from runner.ledger.health import check_file

KEY = "p/run-1/fund"
REQUEST = TransferRequest(
    to="0x7099", raw=5, network="ethereum-sepolia", wallet_id="w-1", symbol="ETH"
)


def _intend(ledger: Ledger, key: str = KEY) -> None:
    ledger.intend_send(
        key=key,
        run_id="run-1",
        playbook="p",
        step_id=key.rsplit("/", 1)[1],
        request=REQUEST,
    )


def _prepared(ledger: Ledger, state: SendState | None) -> None:
    ledger.begin_run("p", "run-1")
    if state is None:
        return
    _intend(ledger)
    if state is SendState.NOT_SENT:
        ledger.mark_not_sent(KEY, "refused")
    elif state is SendState.ACCEPTED:
        ledger.mark_accepted(KEY, "01a2139f-0000-7000-8000-000000000001", "PENDING")


# write under test -> (state before it, the write)
WRITES: dict[str, tuple[SendState | None, Callable[[Ledger], object]]] = {
    "begin_run": (None, lambda ledger: ledger.begin_run("p", "run-2")),
    "save_steps": (
        None,
        lambda ledger: ledger.save_steps([StepRecord("a", "ok", {"x": 1}, None, 1, 2)], "run-1"),
    ),
    "intend_send": (None, _intend),
    "mark_accepted": (
        SendState.INTENDED,
        lambda ledger: ledger.mark_accepted(KEY, "01a2139f-0000-7000-8000-000000000002", "PENDING"),
    ),
    "mark_not_sent": (SendState.INTENDED, lambda ledger: ledger.mark_not_sent(KEY, "refused")),
    "mark_unknown": (SendState.INTENDED, lambda ledger: ledger.mark_unknown(KEY, "lost")),
    "reopen": (SendState.NOT_SENT, lambda ledger: ledger.reopen(KEY, REQUEST)),
    "record_tx_status": (
        SendState.ACCEPTED,
        lambda ledger: ledger.record_tx_status("01a2139f-0000-7000-8000-000000000001", "CONFIRMED"),
    ),
    "finish_run": (None, lambda ledger: ledger.finish_run("run-1", "ok", 0)),
}


def _child(path: Path, write: str, report: Connection) -> None:
    state, action = WRITES[write]
    outcome: dict[str, Any] = {}
    with Ledger(path) as ledger:
        _prepared(ledger, state)
        ledger._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the write must grow the WAL
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))
        try:
            action(ledger)
            outcome["error"] = None
        except Exception as error:  # reported to the parent, which judges it
            outcome["error"] = (type(error).__name__, str(error))
        try:
            _intend(ledger, "p/run-1/later")
            outcome["later_send"] = "recorded"
        except LedgerError as error:
            outcome["later_send"] = str(error)
    report.send(outcome)


@pytest.mark.parametrize("write", list(WRITES))
def test_a_full_disk_at_each_write(tmp_path: Path, write: str) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(path, write, sending))
    child.start()
    outcome = receiving.recv()
    child.join(timeout=30)
    assert child.exitcode == 0

    assert outcome["error"] is not None, "the write should have failed"
    kind, message = outcome["error"]
    assert kind == LedgerWriteFailed.__name__
    assert str(path) in message and "free disk space" in message
    assert "Traceback" not in message
    assert "no new send is recorded" in outcome["later_send"]

    state, _ = WRITES[write]
    assert check_file(path).ok
    with Ledger(path) as ledger:  # sound, and holding what was committed before
        intent = ledger.send(KEY)
        assert (intent.state if intent is not None else None) is state
        assert ledger.send("p/run-1/later") is None
