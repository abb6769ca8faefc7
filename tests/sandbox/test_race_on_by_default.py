"""The signing race is on by default wherever the README says it is (issue #19): the CLI's
sandbox, `Sandbox(...)`, the `sandbox` pytest fixture, `run --sandbox` and `waiaas-run
test`. For the last two the proof is behavioural: with the runner's pipeline wait taken
out, the shipped three-payment recipe fails there, as it did on the real daemon."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import runner.engine.pipeline
from runner.cli import main
from runner.engine.pipeline import NO_WAIT
from runner.sandbox import Sandbox
from tests.sandbox.test_cli import running

ROOT = Path(__file__).resolve().parents[2]
RECURRING = ROOT / "playbooks" / "recurring-payments.yaml"


def test_the_cli_sandbox_races_by_default() -> None:
    with running() as (_, ready):
        info = httpx.get(f"{ready['url']}/_sandbox/info", timeout=5).json()
    assert info["signing"]["race"] is True


async def test_an_in_process_sandbox_and_the_pytest_fixture_race(sandbox: Sandbox) -> None:
    assert sandbox.core.lifecycle.signing.enabled
    async with Sandbox(port=0) as plain:
        assert plain.core.lifecycle.signing.enabled


@pytest.fixture
def unsequenced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner as it was before issue #19: every send posted right after the last 201."""

    async def no_wait(*args: object, **kwargs: object) -> object:
        return NO_WAIT

    monkeypatch.setattr(runner.engine.pipeline, "wait_for_earlier_sends", no_wait)


@pytest.mark.usefixtures("unsequenced")
def test_run_sandbox_races(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["run", "--sandbox", "--state", str(tmp_path / "l.sqlite3"), str(RECURRING)]
    )
    assert result.exit_code == 1, result.output
    assert "ENOENT: no such file or directory" in result.output


@pytest.mark.usefixtures("unsequenced")
def test_scenario_tests_race() -> None:
    result = CliRunner().invoke(main, ["test", str(RECURRING.with_suffix(".test.yaml"))])
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output, result.output


def test_with_the_wait_the_same_runs_pass(tmp_path: Path) -> None:
    """The two above fail because of the race, not for another reason."""
    result = CliRunner().invoke(main, ["test", str(RECURRING.with_suffix(".test.yaml"))])
    assert result.exit_code == 0, result.output
