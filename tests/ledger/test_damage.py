"""A damaged ledger is found before anything is sent, and named clearly, never a traceback.

One 4 KiB page of a ledger with history is overwritten with garbage, in every b-tree
(each table and each index). Damage where a run reads and writes (the root and the
newest leaf of each b-tree) is found when the ledger is opened; damage anywhere else is
found by the full check, and by any operation that touches it — after which the ledger
records no new send.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import runner.ledger.health
from runner.client import TransferRequest
from runner.ledger import Ledger, LedgerDamaged, LedgerError
from runner.ledger.health import check_file
from tests.ledger.damage import BTREES, damage, fill, newest_leaf, pages_of


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "ledger.sqlite3"
    fill(path, runs=150)
    return path


@pytest.fixture
def ledger_file(history: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ledger.sqlite3"
    shutil.copyfile(history, copy)
    return copy


def _intend(ledger: Ledger, key: str = "p/new-run/fund") -> None:
    ledger.intend_send(
        key=key,
        run_id="new-run",
        playbook="p",
        step_id="fund",
        request=TransferRequest(
            to="0x7099", raw=5, network="ethereum-sepolia", wallet_id="w-1", symbol="ETH"
        ),
    )


def _says_what_to_do(error: LedgerError, path: Path) -> None:
    text = str(error)
    assert "damaged" in text and str(path) in text
    assert "ledger check" in text and ".recover" in text
    assert "Traceback" not in text


@pytest.mark.parametrize("where", ["root", "newest leaf"])
@pytest.mark.parametrize("btree", BTREES)
def test_damage_where_runs_work_is_found_on_open(ledger_file: Path, btree: str, where: str) -> None:
    page = (
        pages_of(ledger_file, btree)[0][0] if where == "root" else newest_leaf(ledger_file, btree)
    )
    damage(ledger_file, page)
    with pytest.raises(LedgerDamaged) as caught:
        Ledger(ledger_file)
    _says_what_to_do(caught.value, ledger_file)


@pytest.mark.parametrize("btree", BTREES)
def test_damage_anywhere_is_found_by_the_full_check(ledger_file: Path, btree: str) -> None:
    pages = pages_of(ledger_file, btree)
    for number, (page, _) in enumerate(pages):
        copy = ledger_file.with_name(f"copy-{number}.sqlite3")
        shutil.copyfile(ledger_file, copy)
        damage(copy, page, seed=number)
        assert not check_file(copy).ok, f"page {page} of {btree}"


def test_a_file_that_is_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is a text file, not SQLite" * 200)
    with pytest.raises(LedgerDamaged) as caught:
        Ledger(path)
    _says_what_to_do(caught.value, path)


def test_damage_seen_mid_run_stops_every_new_send(
    ledger_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an old leaf of the sends table: the check on open (of the newest 20 rows here) does
    # not read it, a run that lists this playbook's sends does
    monkeypatch.setattr(runner.ledger.health, "NEWEST_ROWS", 20)
    old_leaf = min(page for page, where in pages_of(ledger_file, "sends") if where != "/")
    damage(ledger_file, old_leaf)
    with Ledger(ledger_file) as ledger:
        with pytest.raises(LedgerDamaged):
            ledger.sends(playbook="history")
        assert isinstance(ledger.broken, LedgerDamaged)
        with pytest.raises(LedgerError, match="no new send is recorded"):
            _intend(ledger)
    with Ledger(ledger_file) as ledger:  # nothing was written meanwhile
        assert ledger.send("p/new-run/fund") is None


def test_a_sound_ledger_passes_both_checks(ledger_file: Path) -> None:
    report = check_file(ledger_file)
    assert report.ok and report.runs == 150 and report.sends == 150
    with Ledger(ledger_file) as ledger:
        _intend(ledger)
