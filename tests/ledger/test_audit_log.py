"""serve's record of audit findings stays bounded: a posted finding older than any audit
reads again is dropped; one not yet posted, or still inside the window, is kept."""

from __future__ import annotations

from pathlib import Path

from runner.ledger.audit_log import AuditLog, Known


def test_posted_findings_older_than_the_cutoff_are_forgotten(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "ledger.sqlite3")
    old_posted, old_unposted, recent = ("a", "tx1"), ("b", "tx2"), ("c", "tx3")
    log.record({old_posted: 100.0, old_unposted: 100.0, recent: 900.0}, [])
    log.record({}, [(old_posted, 101.0), (recent, 901.0)])
    assert set(log.known()) == {old_posted, old_unposted, recent}

    log.record({}, [], forget_before=500.0)

    assert log.known() == {
        old_unposted: Known(100.0, None),  # never posted: kept, so it is never lost unsaid
        recent: Known(900.0, 901.0),
    }


def test_no_cutoff_forgets_nothing(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "ledger.sqlite3")
    log.record({("a",): 1.0}, [(("a",), 2.0)])
    log.record({}, [])
    assert log.known() == {("a",): Known(1.0, 2.0)}
