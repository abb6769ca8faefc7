"""`validate DIR` checks the playbooks in a directory and says which files it skipped as
another tool's YAML; a file named on the command line is always checked as a playbook."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.playbook.files import find_playbooks, other_format

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = """\
version: 1
name: t
env: { WAIAAS_URL: "http://127.0.0.1:3100", WAIAAS_SESSION_TOKEN: ~ }
daemon: { url: "${{ env.WAIAAS_URL }}", token: "${{ env.WAIAAS_SESSION_TOKEN }}" }
steps:
  - log: hi
"""
OTHERS = {
    "deploy.yaml": "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\n---\nkind: Role\n",
    "ci.yml": "name: ci\non:\n  pull_request:\njobs:\n  check: {runs-on: ubuntu-latest}\n",
    "hooks.yaml": "repos:\n  - repo: local\n    hooks: []\n",
}


def _validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.output


def test_the_shipped_examples_and_recipes_validate_as_directories() -> None:
    code, output = _validate(str(ROOT / "playbooks"), str(ROOT / "examples"))
    assert code == 0, output
    assert "cronjob.yaml: skipped: a Kubernetes manifest" in output
    assert "playbooks.yml: skipped: a GitHub Actions workflow" in output


@pytest.mark.parametrize(("name", "text"), sorted(OTHERS.items()))
def test_other_tools_yaml_is_skipped_in_a_walk_and_checked_when_named(
    tmp_path: Path, name: str, text: str
) -> None:
    (tmp_path / "p.yaml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / name).write_text(text, encoding="utf-8")
    found = find_playbooks([tmp_path])
    assert found.files == [tmp_path / "p.yaml"]
    assert found.skipped == {tmp_path / name: other_format(tmp_path / name)}
    code, output = _validate(str(tmp_path))
    assert code == 0 and "skipped" in output and "1 playbook valid" in output
    code, output = _validate(str(tmp_path / name))  # named: checked, and refused
    assert code == 2, output


@pytest.mark.parametrize(
    "broken",
    [
        PLAYBOOK.replace("version: 1\n", ""),  # a broken playbook is reported, never skipped
        PLAYBOOK + "kind: x\n",  # one key of a foreign format is not enough
        PLAYBOOK + "jobs: []\n",
        "  apiVersion: v1\n  kind: x\n",  # not top-level keys
        "",
    ],
)
def test_a_broken_playbook_is_never_mistaken_for_another_format(
    tmp_path: Path, broken: str
) -> None:
    (tmp_path / "p.yaml").write_text(broken, encoding="utf-8")
    assert find_playbooks([tmp_path]).files == [tmp_path / "p.yaml"]
    code, _ = _validate(str(tmp_path))
    assert code == 2


def test_hidden_directories_and_scenario_files_are_not_playbooks(tmp_path: Path) -> None:
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "x.yaml").write_text("junk: [", encoding="utf-8")
    (tmp_path / "p.test.yaml").write_text("cases: []\n", encoding="utf-8")
    (tmp_path / "p.yml").write_text(PLAYBOOK, encoding="utf-8")
    assert find_playbooks([tmp_path]).files == [tmp_path / "p.yml"]
