""".pre-commit-hooks.yaml parses, names real commands, and its entries run on the files
its `files:` pattern selects (as pre-commit passes them)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.examples.conftest import BIN, ROOT

REQUIRED = {"id", "name", "entry", "language"}


def _hooks() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return {hook["id"]: hook for hook in data}


def _run(hook: dict[str, Any], files: list[str]) -> subprocess.CompletedProcess[str]:
    program, *args = shlex.split(hook["entry"])
    return subprocess.run(
        [str(BIN / program), *args, *hook.get("args", []), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _selected(hook: dict[str, Any]) -> list[str]:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    pattern = re.compile(hook["files"])
    return [f for f in tracked if pattern.search(f)]


def test_hooks_parse_with_the_fields_pre_commit_needs() -> None:
    hooks = _hooks()
    assert set(hooks) == {"waiaas-validate", "waiaas-test"}
    for hook in hooks.values():
        assert set(hook) >= REQUIRED, hook
        assert hook["language"] == "python"  # installs this package, so waiaas-run exists
        assert hook["entry"].split()[0] == "waiaas-run"
        re.compile(hook["files"])


def test_validate_hook_passes_on_the_shipped_playbooks_and_fails_on_a_broken_one(
    tmp_path: Path,
) -> None:
    hook = _hooks()["waiaas-validate"]
    files = _selected(hook)
    assert "playbooks/keep-agent-usdc.yaml" in files
    assert "playbooks/keep-agent-usdc.test.yaml" in files  # checked as a test file
    result = _run(hook, files)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nname: x\nsteps: [{balence: {}}]\n", encoding="utf-8")
    result = _run(hook, [str(broken)])
    assert result.returncode == 2
    assert "broken.yaml:" in result.stdout


def test_test_hook_runs_the_scenarios_of_the_files_it_is_given() -> None:
    hook = _hooks()["waiaas-test"]
    files = [f for f in _selected(hook) if "low-balance-alert" in f]
    assert files == ["playbooks/low-balance-alert.test.yaml", "playbooks/low-balance-alert.yaml"]
    result = _run(hook, files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "low-balance-alert.test.yaml" in result.stdout
    assert "passed, 0 failed" in result.stdout + result.stderr
