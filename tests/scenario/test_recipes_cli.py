"""Each new recipe ends as the README's recipe table says: validate, plan --sandbox and
run --sandbox, through the command line, each within a minute."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAIAAS_RUN = str(Path(sys.executable).parent / "waiaas-run")

# recipe -> (exit code of plan --sandbox, exit code of run --sandbox), as documented
DOCUMENTED = {
    "keep-agent-usdc": (0, 0),
    "recurring-payments": (0, 0),
    "low-balance-alert": (1, 1),  # the sandbox agent's 0.02 ETH is below its 0.05 floor
    "stuck-transactions": (0, 0),
}


def _waiaas_run(*args: str, home: Path) -> tuple[int, str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [WAIAAS_RUN, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_DATA_HOME": str(home)},
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


@pytest.mark.parametrize("recipe", sorted(DOCUMENTED))
def test_recipe_validates_plans_and_runs_as_documented(recipe: str, tmp_path: Path) -> None:
    path = f"playbooks/{recipe}.yaml"
    plan_code, run_code = DOCUMENTED[recipe]
    code, out, _ = _waiaas_run("validate", path, home=tmp_path)
    assert code == 0, out
    code, out, seconds = _waiaas_run("plan", "--sandbox", path, home=tmp_path)
    assert code == plan_code, out
    assert "(plan " in out and seconds < 60
    code, out, seconds = _waiaas_run("run", "--sandbox", path, home=tmp_path)
    assert code == run_code, out
    assert "(run " in out and seconds < 60
    assert not (tmp_path / "waiaas-runner").exists()  # --sandbox never writes the real ledger
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"| `{recipe}.yaml` |" in readme


# Sends that need the owner's approval in the sandbox: the run prints the command that
# approves them, as a user would run it from a second terminal.
NEEDS_APPROVAL = ["keep-agent-funded", "nightly-sweep"]
APPROVE = re.compile(r"`(waiaas-run sandbox --approve \S+ --url \S+)`")


@pytest.mark.parametrize("recipe", NEEDS_APPROVAL)
def test_a_recipe_waiting_for_approval_ends_once_approved(recipe: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with subprocess.Popen(
        [WAIAAS_RUN, "run", "--sandbox", f"playbooks/{recipe}.yaml"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
    ) as process:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            found = APPROVE.search(line)
            if found:
                program, *args = found.group(1).split()
                approved = subprocess.run(
                    [str(Path(WAIAAS_RUN).parent / program), *args],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    check=False,
                )
                assert approved.returncode == 0, approved.stdout + approved.stderr
                break
        rest, _ = process.communicate(timeout=60)
        out = "".join(seen) + rest
    assert found, out
    assert process.returncode == 0, out
    assert "CONFIRMED" in out
    assert time.monotonic() - started < 60


def test_approvals_backlog_ends_ok_in_the_sandbox(tmp_path: Path) -> None:
    code, out, seconds = _waiaas_run(
        "run", "--sandbox", "playbooks/approvals-backlog.yaml", home=tmp_path
    )
    assert code == 0, out
    assert seconds < 60
