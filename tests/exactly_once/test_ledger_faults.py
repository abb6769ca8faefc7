"""The ledger fails under a run: a full disk at each write, a damaged file, a file where
the lock folder should be. Each ends with a clean message and exit code, never a traceback,
nothing is sent after the failure is seen, and ``--resume`` never sends twice.

A full disk is injected at one write of the run (SQLite's own "database or disk is full"
error, raised where the write would happen); tests/ledger/test_full_disk.py shows the same
errors with a real file-size limit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runner.engine.results import ExitCode
from runner.errors import exit_code_of
from runner.ledger import Ledger, LedgerDamaged, LedgerError, LedgerWriteFailed, SendState
from runner.ledger.connection import failure
from tests.exactly_once.conftest import Harness, no_wait, reason
from tests.exactly_once.test_fault_matrix import PLAYBOOK as READ_SEND_WAIT
from tests.ledger.damage import BTREES, damage, fill, newest_leaf, pages_of

PLAYBOOK = READ_SEND_WAIT  # a balance read, a send, a wait for it


def _disk_full() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
    return error


def fail_at(monkeypatch: pytest.MonkeyPatch, method: str, call: int) -> None:
    """The ``call``-th call of ``Ledger.<method>`` finds the disk full when it writes."""
    target: Callable[..., Any] = getattr(Ledger, method)
    write = Ledger._write
    calls = 0

    def armed(self: Ledger, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        self._disk_full = calls == call  # type: ignore[attr-defined]
        try:
            return target(self, *args, **kwargs)
        finally:
            self._disk_full = False  # type: ignore[attr-defined]

    def full(self: Ledger, **kwargs: Any) -> Any:
        if getattr(self, "_disk_full", False):
            raise _disk_full()
        return write(self, **kwargs)

    monkeypatch.setattr(Ledger, method, armed)
    monkeypatch.setattr(Ledger, "_write", full)


@dataclass(frozen=True)
class Expected:
    exit_code: ExitCode
    transactions: int
    state: SendState | None  # the send's ledger state after the failed run
    says: str  # words the run's error or the failed step's reason must hold


WRITES: dict[tuple[str, int], Expected] = {
    # before anything ran: the run is refused
    ("begin_run", 1): Expected(ExitCode.FAILED, 0, None, "recording the start of the run"),
    # the step records flushed before the send: the send is not started
    ("save_steps", 1): Expected(ExitCode.FAILED, 0, None, "nothing more was sent"),
    ("intend_send", 1): Expected(ExitCode.FAILED, 0, None, "nothing was sent"),
    # the daemon accepted it, the ledger cannot say so: the id and the command to settle it
    ("mark_accepted", 1): Expected(ExitCode.UNKNOWN_SEND, 1, SendState.INTENDED, "--tx"),
    # after the send was recorded: the run stops, the send stays accepted
    ("save_steps", 2): Expected(ExitCode.FAILED, 1, SendState.ACCEPTED, "nothing more"),
    ("record_tx_status", 1): Expected(
        ExitCode.FAILED, 1, SendState.ACCEPTED, "recording a transaction status"
    ),
    ("finish_run", 1): Expected(ExitCode.FAILED, 1, SendState.ACCEPTED, "end of the run"),
}


def _said(result: Any) -> str:
    return " ".join([result.error or "", *(step.reason or "" for step in result.steps)])


@pytest.mark.parametrize(("method", "call"), list(WRITES), ids=[f"{m}-{c}" for m, c in WRITES])
async def test_a_full_disk_at_each_write_of_a_run(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, method: str, call: int
) -> None:
    expected = WRITES[(method, call)]
    path = harness.write(PLAYBOOK)
    with monkeypatch.context() as patch:
        fail_at(patch, method, call)
        try:
            result, _ = await harness.run_file(path, sleep=no_wait)
            code, said = result.exit_code, _said(result)
        except LedgerError as refused:  # refused before it started (the CLI prints it)
            code, said = exit_code_of(refused), str(refused)
    assert code is expected.exit_code, said
    assert expected.says in said and "could not be written" in said
    assert "Traceback" not in said
    assert harness.tx_count() == expected.transactions
    states = [send.state for send in harness.sends()]
    assert states == ([] if expected.state is None else [expected.state])
    if method == "mark_accepted":
        [tx_id] = harness.tx_ids()
        key = harness.sends()[0].key
        assert f"waiaas-run resolve {key} --tx {tx_id}" in said

    if method != "begin_run":  # the disk has room again: --resume sends at most once
        resumed, _ = await harness.run_file(path, sleep=no_wait, resume=True)
        assert resumed.exit_code is ExitCode.OK, _said(resumed)
        assert harness.tx_count() == 1
        [send] = harness.sends()
        assert send.state is SendState.ACCEPTED and [send.tx_id] == harness.tx_ids()


async def test_a_full_disk_when_recording_a_refusal(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.sandbox.add_fault("POST /v1/transactions/send status=500 times=1")
    with monkeypatch.context() as patch:
        fail_at(patch, "mark_not_sent", 1)
        result, _ = await harness.run(PLAYBOOK, sleep=no_wait)
    assert result.exit_code is ExitCode.FAILED
    said = reason(result, "fund")
    assert "INTERNAL_ERROR" in said and "could not record that" in said
    assert harness.tx_count() == 0
    assert [send.state for send in harness.sends()] == [SendState.INTENDED]


@pytest.mark.parametrize("btree", BTREES)
async def test_a_damaged_ledger_is_refused_before_anything_is_sent(
    harness: Harness, btree: str
) -> None:
    fill(harness.state, runs=60, playbook="exactly-once")
    damage(harness.state, newest_leaf(harness.state, btree))
    with pytest.raises(LedgerDamaged) as refused:
        await harness.run(PLAYBOOK)
    assert exit_code_of(refused.value) is ExitCode.INVALID
    assert "ledger check" in str(refused.value)
    assert harness.tx_count() == 0


TX_IDS = "sqlite_autoindex_sends_2"  # the UNIQUE index on sends.tx_id


def _oldest_leaf(path: Path, btree: str) -> int:
    return min((where, page) for page, where in pages_of(path, btree) if where != "/")[1]


async def test_damage_met_during_a_run_stops_it_before_the_send(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damage the check on open does not read (an old page of the send keys' index, where
    this run's key is looked up) stops the run at the lookup: exit 2, nothing sent."""
    monkeypatch.setattr("runner.ledger.health.NEWEST_ROWS", 10)
    fill(harness.state, runs=120, playbook="zz-another-playbook")  # keys sort after ours
    damage(harness.state, _oldest_leaf(harness.state, "sqlite_autoindex_sends_1"))
    result, _ = await harness.run(PLAYBOOK)
    assert result.exit_code is ExitCode.INVALID, _said(result)
    assert "is damaged" in _said(result) and "nothing was sent" in _said(result)
    assert harness.tx_count() == 0


async def test_damage_met_after_the_request_left_leaves_the_send_unknown(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is lost; reconciling asks whether the daemon's transaction is claimed and
    meets damage: the send is unknown (exit 3), never posted again. The question reads
    the transaction-id index from its root to the one leaf where the daemon's id would be
    (not every claimed id, which at millions of sends cost seconds): that lookup is what
    meets the damage here."""

    def damaged_lookup(ledger: Ledger, tx_ids: object) -> set[str]:
        error = sqlite3.DatabaseError("database disk image is malformed")
        raise failure(error, ledger.path, "reading claimed transactions")

    monkeypatch.setattr(Ledger, "claimed_among", damaged_lookup)
    harness.sandbox.add_fault("POST /v1/transactions/send drop times=1")
    result, _ = await harness.run(PLAYBOOK, sleep=no_wait)
    assert result.exit_code is ExitCode.UNKNOWN_SEND, _said(result)
    said = reason(result, "fund")
    assert "is damaged" in said and "waiaas-run resolve" in said
    assert harness.tx_count() == 1  # the daemon's one, not posted again


async def test_a_file_where_the_lock_folder_should_be(harness: Harness) -> None:
    harness.state.parent.mkdir(parents=True, exist_ok=True)
    (harness.state.parent / "locks").write_text("not a folder")
    with pytest.raises(LedgerError) as refused:
        await harness.run(PLAYBOOK)
    assert exit_code_of(refused.value) is ExitCode.INVALID
    assert "is a file, not a folder" in str(refused.value)
    assert harness.tx_count() == 0


def test_write_failures_are_their_own_kind() -> None:
    assert exit_code_of(LedgerWriteFailed("x")) is ExitCode.FAILED
    assert exit_code_of(LedgerDamaged("x")) is ExitCode.INVALID


async def test_resume_waits_for_an_interrupted_request_outside_the_step_timeout(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step ``timeout:`` shorter than the request timeout: the first run stops at the
    step's deadline with its request in flight (exit 3). An early --resume first waits
    until that request would have timed out; that wait must not count against the step,
    or every early --resume would stop at exit 3 again."""
    monkeypatch.setattr("runner.engine.sending.RECONCILE_GRACE_SECONDS", 0.05)
    monkeypatch.setattr("runner.engine.pipeline.RECONCILE_GRACE_SECONDS", 0.05)
    harness.client_timeout = 1.2
    harness.sandbox.add_fault("POST /v1/transactions/send hold=5 times=1")
    path = harness.write(
        """\
        steps:
          - id: fund
            timeout: 400ms
            send: { from: treasury, to: agent, amount: "0.001 ETH" }
        """
    )
    first, _ = await harness.run_file(path)
    assert first.exit_code is ExitCode.UNKNOWN_SEND, _said(first)
    assert [send.state for send in harness.sends()] == [SendState.INTENDED]

    resumed, reporter = await harness.run_file(path, resume=True)  # ~0.85 s still to wait
    assert resumed.exit_code is ExitCode.OK, _said(resumed)
    assert harness.tx_count() == 1
    [send] = harness.sends()
    assert send.state is SendState.ACCEPTED and [send.tx_id] == harness.tx_ids()
    assert any("not counted against the step" in message for _, message in reporter.logs)
