"""``waiaas-run ledger check``: sound -> 0 with counts; damaged -> 2, what to do, no traceback."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from runner.cli import main
from tests.ledger.damage import damage, fill, newest_leaf


def check(path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["ledger", "check", "--state", str(path)])
    return result.exit_code, result.stdout, result.stderr


def test_a_sound_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    fill(path, runs=5)
    code, out, _ = check(path)
    assert code == 0 and "sound (5 runs, 5 sends" in out


def test_a_damaged_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    fill(path, runs=40)
    damage(path, newest_leaf(path, "steps"))
    code, _, err = check(path)
    assert code == 2
    assert "DAMAGED" in err and ".recover" in err and "Traceback" not in err


def test_no_ledger(tmp_path: Path) -> None:
    code, _, err = check(tmp_path / "missing.sqlite3")
    assert code == 2 and "no ledger at" in err
