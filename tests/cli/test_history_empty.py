"""`waiaas-run history` before any run says there are none and exits 0 (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runner.cli import main
from runner.ledger import Ledger


def history(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["history", *args], env=env or {})
    return result.exit_code, result.output


def test_no_ledger_yet_text(tmp_path: Path) -> None:
    code, shown = history("--state", str(tmp_path / "ledger.sqlite3"))
    assert code == 0 and shown.startswith("no runs recorded yet")
    assert str(tmp_path / "ledger.sqlite3") in shown


def test_no_ledger_yet_json(tmp_path: Path) -> None:
    code, shown = history("--output", "json", "--state", str(tmp_path / "ledger.sqlite3"))
    assert code == 0 and json.loads(shown) == []


def test_no_ledger_yet_for_one_playbook(tmp_path: Path) -> None:
    code, shown = history("--playbook", "nightly-sweep", "--state", str(tmp_path / "x.sqlite3"))
    assert code == 0 and "no runs recorded yet" in shown


def test_no_ledger_yet_in_a_folder_not_made_yet(tmp_path: Path) -> None:
    code, shown = history("--state", str(tmp_path / "not" / "made" / "ledger.sqlite3"))
    assert code == 0 and "no runs recorded yet" in shown
    assert not (tmp_path / "not").exists()  # looking made nothing


def test_the_default_ledger_from_the_environment(tmp_path: Path) -> None:
    code, shown = history(env={"WAIAAS_RUNNER_STATE": str(tmp_path / "state.sqlite3")})
    assert code == 0 and "state.sqlite3" in shown


def test_an_empty_ledger_says_no_runs(tmp_path: Path) -> None:
    Ledger(tmp_path / "ledger.sqlite3").close()
    code, shown = history("--state", str(tmp_path / "ledger.sqlite3"))
    assert code == 0 and "no runs recorded" in shown


def test_a_path_through_a_file_is_still_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    code, shown = history("--state", str(tmp_path / "a-file" / "ledger.sqlite3"))
    assert code == 2, shown
