"""Every shipped playbook validates, plans and runs against the sandbox to the end the
README's recipe table documents, within a minute (issues 10 and 12), with nothing but the
playbook's own env: defaults.

Runs that wait for the owner's approval print how to give it; the test does what the
printed line says, from another process, as a person would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECIPES = sorted(
    path for path in (ROOT / "playbooks").glob("*.yaml") if not path.name.endswith(".test.yaml")
)
SHIPPED = [*RECIPES, ROOT / "examples" / "quickstart.yaml"]
APPROVE = re.compile(r"`waiaas-run sandbox --approve (\S+) --url (\S+)`")
NEEDS_APPROVAL = {"keep-agent-funded.yaml", "nightly-sweep.yaml"}
# a recipe's row in the README's table: | `name.yaml` | what it does | how `run --sandbox` ends |
RECIPE_ROW = re.compile(r"^\| `(?P<name>[\w-]+\.yaml)` \|.*\|(?P<ends>[^|]*)\|$", re.MULTILINE)


def _documented_exit_codes() -> dict[str, int]:
    """The exit code each recipe's row promises (rows that say "as above" take the one above)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    codes: dict[str, int] = {}
    last = 0
    for row in RECIPE_ROW.finditer(readme):
        found = re.search(r"exit (\d)", row["ends"])
        last = int(found.group(1)) if found else last
        codes[row["name"]] = last
    return codes


DOCUMENTED = _documented_exit_codes() | {"quickstart.yaml": 0}


def _environment(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WAIAAS_")}
    home = tmp_path / "home"
    return clean | {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }


def _waiaas(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=ROOT,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_playbook_is_covered_and_documented() -> None:
    assert {path.name for path in SHIPPED} >= {
        "approvals-backlog.yaml",
        "keep-agent-funded.yaml",
        "nightly-sweep.yaml",
        "quickstart.yaml",
    }
    assert len(RECIPES) >= 7
    assert set(DOCUMENTED) == {path.name for path in SHIPPED}  # a row in the README for each


@pytest.mark.parametrize("playbook", SHIPPED, ids=lambda path: path.name)
def test_validate_and_plan(playbook: Path, tmp_path: Path) -> None:
    runner = CliRunner()  # in-process: no interpreter start-up per command
    env = {name: None for name in os.environ if name.startswith("WAIAAS_")}
    env |= {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        "XDG_DATA_HOME": str(tmp_path / ".local" / "share"),
    }
    validated = runner.invoke(main, ["validate", str(playbook)], env=env)
    assert validated.exit_code == 0, validated.output
    started = time.monotonic()
    planned = runner.invoke(main, ["plan", "--sandbox", str(playbook)], env=env)
    assert planned.exit_code == DOCUMENTED[playbook.name], planned.output
    assert "(plan " in planned.output
    assert planned.exception is None or isinstance(planned.exception, SystemExit)
    assert "sent=True" not in planned.output  # a plan sends nothing and says so
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("playbook", SHIPPED, ids=lambda path: path.name)
def test_run_in_the_sandbox_ends_within_a_minute(playbook: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "run", "--sandbox", str(playbook)],
        cwd=ROOT,
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            hint = APPROVE.search(line)
            if hint is not None:  # act on it as the line says, from another process
                tx_id, url = hint.groups()
                approved = _waiaas(tmp_path, "sandbox", "--approve", tx_id, "--url", url)
                assert approved.returncode == 0, approved.stdout + approved.stderr
            assert time.monotonic() - started < 60, "".join(lines)
        process.wait(timeout=60 - (time.monotonic() - started))
    finally:
        process.kill()
        errors = process.stderr.read() if process.stderr else ""
    output = "".join(lines)
    assert process.returncode == DOCUMENTED[playbook.name], output + errors
    assert "(run " in output
    assert not (tmp_path / "home" / ".local").exists()  # --sandbox never writes the real ledger
    assert "Traceback" not in errors
    assert time.monotonic() - started < 60
    assert (APPROVE.search(output) is not None) == (playbook.name in NEEDS_APPROVAL), output
