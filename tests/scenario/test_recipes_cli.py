"""Each new recipe ends as the README's recipe table says: validate, plan --sandbox and
run --sandbox, through the command line, each within a minute."""

from __future__ import annotations

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
