"""The ledger stops taking writes while serve runs (disk full, file made read-only): each
slot that cannot be recorded is said as the ledger says it — what and what to do — with
no traceback and no asyncio 'Task exception was never retrieved'; serve goes on."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from tests.serve.conftest import ServeHarness, until, write_playbook


@pytest.mark.parametrize("reads", ["fail", "work"])
async def test_slot_writes_that_fail_are_reported_without_a_traceback(
    harness: ServeHarness,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    reads: str,
) -> None:
    """Reproduction: the slots table failed mid-serve; the run task died in its error
    handler (which wrote to the same ledger again) and asyncio printed the traceback of
    sqlite3.OperationalError when the task was collected; the scheduler's path logged a
    traceback too."""
    write_playbook(harness.books, "often", "{ interval: 1s }")
    serve = await harness.start()
    caplog.set_level(logging.WARNING)
    working = serve.slot_log._db
    broken = sqlite3.connect(":memory:")
    broken.close()  # every statement now raises sqlite3.ProgrammingError
    serve.slot_log._db = broken
    if reads == "work":  # only writes fail (disk full): the slot is admitted, its start fails
        monkeypatch.setattr(serve.slot_log, "get", lambda playbook, slot: None)
    try:
        await until(
            lambda: any(
                "could not record" in r.getMessage() or "failed while" in r.getMessage()
                for r in caplog.records
            ),
            "a slot that could not be recorded",
        )
        await until(
            lambda: len([r for r in caplog.records if "often" in r.getMessage()]) >= 2,
            "a second one: serve goes on",
        )
    finally:
        serve.slot_log._db = working
    assert all(record.exc_info is None for record in caplog.records)
    assert not any("never retrieved" in record.getMessage() for record in caplog.records)
    assert any(str(harness.state) in record.getMessage() for record in caplog.records)
