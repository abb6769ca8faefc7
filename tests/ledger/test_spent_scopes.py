"""What the ledger counts toward a daily cap (issue #19 part 2): one playbook's sends or
every send, of one symbol on one network, rows without a network conservatively; and a
ledger written by the previous schema (version 2) opened and used as it is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runner.client import TransferRequest
from runner.ledger import CapExceeded, DailyCap, Ledger, SendState
from runner.ledger.health import SCHEMA_VERSION, check_file

SEPOLIA, MAINNET = "ethereum-sepolia", "ethereum-mainnet"


def intend(
    ledger: Ledger,
    key: str,
    raw: int,
    *,
    network: str | None = SEPOLIA,
    symbol: str = "ETH",
    cap: DailyCap | tuple[DailyCap, ...] | None = None,
) -> None:
    playbook, run_id, step_id = key.split("/")
    ledger.intend_send(
        key=key,
        run_id=run_id,
        playbook=playbook,
        step_id=step_id,
        request=TransferRequest("0xabc", raw, network=network, wallet_id="w", symbol=symbol),
        daily_cap=cap,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3", clock=lambda: 1_000.0)


def test_a_playbook_scope_counts_only_that_playbooks_sends(ledger: Ledger) -> None:
    intend(ledger, "sweep/r1/a", 28 * 10**16)
    intend(ledger, "payments/r1/a", 4 * 10**15)
    assert ledger.spent_since("ETH", 0, network=SEPOLIA, playbook="payments") == 4 * 10**15
    assert ledger.spent_since("ETH", 0, network=SEPOLIA, playbook="sweep") == 28 * 10**16
    assert ledger.spent_since("ETH", 0, network=SEPOLIA) == 28 * 10**16 + 4 * 10**15
    assert ledger.spent_since("ETH", 0, network=SEPOLIA, playbook="nobody") == 0


def test_one_symbol_on_two_networks_is_two_assets(ledger: Ledger) -> None:
    intend(ledger, "p/r1/test", 1, network=SEPOLIA)
    intend(ledger, "p/r1/main", 10, network=MAINNET)
    intend(ledger, "p/r1/usdc-base", 100, network="base-mainnet", symbol="USDC")
    intend(ledger, "p/r1/usdc-eth", 1_000, network=MAINNET, symbol="USDC")
    assert ledger.spent_since("ETH", 0, network=SEPOLIA) == 1
    assert ledger.spent_since("ETH", 0, network=MAINNET) == 10
    assert ledger.spent_since("USDC", 0, network="base-mainnet", playbook="p") == 100
    assert ledger.spent_since("USDC", 0, network=MAINNET) == 1_000


def test_rows_without_a_network_count_toward_every_network(ledger: Ledger) -> None:
    intend(ledger, "p/r1/unknown", 5, network=None)
    intend(ledger, "p/r1/test", 1, network=SEPOLIA)
    intend(ledger, "p/r1/main", 10, network=MAINNET)
    assert ledger.spent_since("ETH", 0, network=SEPOLIA) == 6
    assert ledger.spent_since("ETH", 0, network=MAINNET) == 15
    # a send whose own network is not known counts every row of its symbol
    assert ledger.spent_since("ETH", 0, network=None) == 16
    assert ledger.spent_since("ETH", 0) == 16


def test_each_cap_is_enforced_atomically_in_its_own_scope(ledger: Ledger) -> None:
    own = DailyCap(10, 0, playbook="payments", scope="playbook: its own")
    everyone = DailyCap(25, 0, scope="runner config: every send")
    intend(ledger, "sweep/r1/a", 12)  # another playbook's
    intend(ledger, "payments/r1/a", 6, cap=(own, everyone))  # own 0+6 <= 10, all 12+6 <= 25
    with pytest.raises(CapExceeded) as exceeded:  # own: 6 + 6 > 10
        intend(ledger, "payments/r1/b", 6, cap=(own, everyone))
    assert (exceeded.value.spent_raw, exceeded.value.cap) == (6, own)
    with pytest.raises(CapExceeded) as exceeded:  # own 6 + 4 fits; every send 18 + 4 > 21
        intend(ledger, "payments/r1/c", 4, cap=(own, DailyCap(21, 0)))
    assert exceeded.value.spent_raw == 18 and exceeded.value.cap is not None
    assert exceeded.value.cap.playbook is None
    assert ledger.send("payments/r1/b") is None and ledger.send("payments/r1/c") is None
    # mainnet ETH is not counted against a sepolia cap, nor sepolia ETH against mainnet
    intend(ledger, "payments/r1/d", 10, network=MAINNET, cap=(own, everyone))
    assert ledger.send("payments/r1/d") is not None


# The schema of version 2 exactly as the previous runner created it.
_VERSION_2 = [
    """CREATE TABLE runs (run_id TEXT PRIMARY KEY, playbook TEXT NOT NULL,
    scheduled_for REAL, started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL,
    exit_code INTEGER)""",
    "CREATE INDEX runs_by_playbook ON runs (playbook, started_at)",
    """CREATE TABLE steps (run_id TEXT NOT NULL REFERENCES runs (run_id),
    step_id TEXT NOT NULL, status TEXT NOT NULL, output TEXT, error TEXT,
    started_at REAL NOT NULL, finished_at REAL NOT NULL, PRIMARY KEY (run_id, step_id))""",
    """CREATE TABLE sends (key TEXT PRIMARY KEY, run_id TEXT NOT NULL,
    playbook TEXT NOT NULL, step_id TEXT NOT NULL, wallet_id TEXT, network TEXT,
    to_address TEXT NOT NULL, amount_raw TEXT NOT NULL, symbol TEXT NOT NULL,
    request TEXT NOT NULL, state TEXT NOT NULL, tx_id TEXT UNIQUE, tx_status TEXT,
    note TEXT, intended_at REAL NOT NULL, updated_at REAL NOT NULL)""",
    "CREATE INDEX sends_by_symbol ON sends (symbol, intended_at)",
    "CREATE INDEX sends_by_state ON sends (state, playbook)",
    "CREATE INDEX sends_by_run ON sends (run_id)",
]


def _version_2_ledger(path: Path) -> None:
    db = sqlite3.connect(path)
    for statement in _VERSION_2:
        db.execute(statement)
    rows = [  # key, playbook, network, amount
        ("sweep/r1/a", "sweep", SEPOLIA, "280000000000000000"),
        ("payments/r1/a", "payments", SEPOLIA, "4000000000000000"),
        ("payments/r0/a", "payments", None, "1000000000000000"),  # no network recorded
        ("payments/r2/a", "payments", MAINNET, "7000000000000000"),
    ]
    for key, playbook, network, amount in rows:
        body = f'{{"amount": "{amount}", "to": "0xabc", "type": "TRANSFER"}}'
        db.execute(
            "INSERT INTO sends VALUES (?, ?, ?, 'a', 'w', ?, '0xabc', ?, 'ETH', ?, 'accepted', "
            "?, 'CONFIRMED', NULL, 900.0, 900.0)",
            (key, key.split("/")[1], playbook, network, amount, body, f"tx-{key}"),
        )
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()


def test_a_version_2_ledger_opens_migrates_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _version_2_ledger(path)
    assert SCHEMA_VERSION >= 3  # a later version keeps what 3 added
    assert check_file(path).ok  # `ledger check` reads it as it is (read-only, no migration)

    with Ledger(path, clock=lambda: 1_000.0) as ledger:
        # its rows read back, and count by the new scopes (the NULL row everywhere)
        assert [s.state for s in ledger.sends(playbook="payments")] == [SendState.ACCEPTED] * 3
        assert ledger.spent_since("ETH", 0, network=SEPOLIA, playbook="payments") == 5 * 10**15
        assert ledger.spent_since("ETH", 0, network=MAINNET, playbook="payments") == 8 * 10**15
        assert ledger.spent_since("ETH", 0, network=SEPOLIA) == 285 * 10**15
        intend(ledger, "payments/r3/a", 5 * 10**15, cap=DailyCap(10**16, 0, playbook="payments"))

    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {row[1] for row in db.execute("PRAGMA index_list(sends)")}
        assert "sends_by_playbook" in indexes
        plan = " ".join(
            str(row[-1])
            for row in db.execute(
                "EXPLAIN QUERY PLAN SELECT amount_raw, state, tx_status FROM sends "
                "WHERE symbol = ? AND intended_at >= ? "
                "AND key IS NOT ? AND playbook = ? AND (network = ? OR network IS NULL)",
                ("ETH", 0, None, "payments", SEPOLIA),
            )
        )
        assert "sends_by_playbook" in plan  # the scoped sum reads one index range
    finally:
        db.close()
    assert check_file(path).ok


def test_a_ledger_of_a_newer_schema_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(Exception, match="newer waiaas-runner"):
        Ledger(path)
