"""`.ci/run` runs exactly the README's test command ("Two commands"), browser install
included: a change to one without the other is caught here."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    marker = readme.index("# tests (exactly what CI runs: .ci/run)")
    documented = readme[marker + 1]
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = [line for line in script if line and not line.startswith(("#", "set ", "cd "))]
    assert commands == [documented]
    assert "chromium" in documented and "pytest -q" in documented
