"""Every shipped playbook validates, plans and runs against the sandbox to a meaningful
end within a minute (issue 10), with nothing but the playbook's own env: defaults.

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
PLAYBOOKS = (ROOT / "playbooks").glob("*.yaml")
SHIPPED = [
    *sorted(path for path in PLAYBOOKS if not path.name.endswith(".test.yaml")),  # not scenarios
    ROOT / "examples" / "quickstart.yaml",
]
APPROVE = re.compile(r"`waiaas-run sandbox --approve (\S+) --url (\S+)`")
NEEDS_APPROVAL = {"keep-agent-funded.yaml", "nightly-sweep.yaml"}
# what a playbook demonstrates, where that is not exit 0 (documented in its header)
EXIT_CODES = {"low-balance-alert.yaml": 1}  # the sandbox agent is below its floor


def _environment(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WAIAAS_")}
    home = tmp_path / "home"
    return clean | {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}


def _waiaas(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=ROOT,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_playbook_is_covered() -> None:
    assert {path.name for path in SHIPPED} >= {
        "approvals-backlog.yaml",
        "keep-agent-funded.yaml",
        "nightly-sweep.yaml",
        "quickstart.yaml",
    }


@pytest.mark.parametrize("playbook", SHIPPED, ids=lambda path: path.name)
def test_validate_and_plan(playbook: Path, tmp_path: Path) -> None:
    runner = CliRunner()  # in-process: no interpreter start-up per command
    env = {name: None for name in os.environ if name.startswith("WAIAAS_")}
    env |= {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config")}
    validated = runner.invoke(main, ["validate", str(playbook)], env=env)
    assert validated.exit_code == 0, validated.output
    started = time.monotonic()
    planned = runner.invoke(main, ["plan", "--sandbox", str(playbook)], env=env)
    assert planned.exit_code == EXIT_CODES.get(playbook.name, 0), planned.output
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
    assert process.returncode == EXIT_CODES.get(playbook.name, 0), output + errors
    assert "Traceback" not in errors
    assert time.monotonic() - started < 60
    if playbook.name in NEEDS_APPROVAL:
        assert APPROVE.search(output) is not None, output
