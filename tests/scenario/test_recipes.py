"""Every shipped recipe passes its scenario file; a broken recipe fails with a readable diff."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.scenario import load_scenario, playbook_for, run_scenario

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted(
    p for p in (ROOT / "playbooks").glob("*.yaml") if not p.name.endswith(".test.yaml")
)
SCENARIOS = sorted((ROOT / "playbooks").glob("*.test.yaml"))


def test_there_are_seven_recipes_each_with_a_scenario_file() -> None:
    assert len(RECIPES) >= 7
    assert {playbook_for(s) for s in SCENARIOS} == set(RECIPES)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
async def test_recipe_passes_its_scenarios(path: Path) -> None:
    results = await run_scenario(load_scenario(path))
    assert len(results) >= 3, "each recipe needs several cases"
    failures = {r.name: r.verdict.lines for r in results if not r.passed}
    assert not failures


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_recipe_header_says_what_to_edit_and_which_env(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    head = text.split("\nversion:", 1)[0]
    assert head.startswith("# yaml-language-server: $schema=playbook.schema.json")
    if path.stem in ("keep-agent-funded", "nightly-sweep", "approvals-backlog"):
        return  # shipped before the recipe format; their headers are the description
    for needed in ("What it does", "What to edit", "Env:", "Try it"):
        assert needed in head, f"{path.name}: header lacks {needed!r}"


def _broken_copy(tmp_path: Path, recipe: str, good: str, bad: str) -> Path:
    for name in (f"{recipe}.yaml", f"{recipe}.test.yaml"):
        shutil.copy(ROOT / "playbooks" / name, tmp_path / name)
    shutil.copy(ROOT / "playbooks" / "playbook.schema.json", tmp_path)
    playbook = tmp_path / f"{recipe}.yaml"
    text = playbook.read_text(encoding="utf-8")
    assert good in text
    playbook.write_text(text.replace(good, bad), encoding="utf-8")
    return tmp_path / f"{recipe}.test.yaml"


def test_a_wrong_comparison_fails_with_a_readable_diff(tmp_path: Path) -> None:
    scenario = _broken_copy(
        tmp_path,
        "keep-agent-usdc",
        "steps.agent.amount < vars.floor",
        "steps.agent.amount >= vars.floor",
    )
    result = CliRunner().invoke(main, ["test", str(scenario)])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "✗ tops up an agent below the floor" in out
    assert "sends (- expected but not made, + made but not expected):" in out
    assert "- treasury -> agent  100 USDC  (CONFIRMED)" in out
    assert "fund: expected ok, got skipped (if: steps.agent.amount >= vars.floor is false)" in out
    # the case that should not send now does: the diff shows the send nobody asked for
    assert "✗ leaves an agent at the floor alone" in out
    assert "+ treasury -> agent  100 USDC  (CONFIRMED)" in out
    assert "cases:" in out and "failed" in out


def test_a_wrong_amount_shows_expected_and_actual_sends(tmp_path: Path) -> None:
    scenario = _broken_copy(
        tmp_path, "recurring-payments", 'bob_amount: "0.003 ETH"', 'bob_amount: "0.0003 ETH"'
    )
    result = CliRunner().invoke(main, ["test", str(scenario), "--case", "pays every recipient"])
    assert result.exit_code == 1, result.output
    assert "- treasury -> 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC  0.003 ETH  (CONFIRMED)" in (
        result.output
    )
    assert "+ treasury -> 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC  0.0003 ETH  (CONFIRMED)" in (
        result.output
    )
    assert "1 case: 0 passed, 1 failed" in result.output


# A threshold moved a little, or a boundary flipped (< to <=), is a change a reviewer can
# miss: each recipe's scenarios must catch it (found by mutating every comparison and
# threshold of the recipes; these are the ones the first scenario files let through).
BOUNDARY_MUTATIONS = [
    ("approvals-backlog", "max_waiting: 5", "max_waiting: 4"),
    ("approvals-backlog", 'oldest_age > seconds("2h")', 'oldest_age >= seconds("2h")'),
    ("approvals-backlog", 'seconds("2h")', 'seconds("1h")'),
    ("keep-agent-funded", 'floor: "0.05 ETH"', 'floor: "0.04 ETH"'),
    ("keep-agent-usdc", 'floor: "25 USDC"', 'floor: "24 USDC"'),
    ("low-balance-alert", 'treasury_eth_floor: "2 ETH"', 'treasury_eth_floor: "1 ETH"'),
    ("nightly-sweep", 'minimum_sweep: "0.1 ETH"', 'minimum_sweep: "0.2 ETH"'),
    ("nightly-sweep", "vars.keep >= vars.minimum_sweep", "vars.keep > vars.minimum_sweep"),
    ("stuck-transactions", "older_than: 30m", "older_than: 1h"),
    ("stuck-transactions", "older_than: 30m", "older_than: 15m"),
]


@pytest.mark.parametrize(
    ("recipe", "good", "bad"),
    BOUNDARY_MUTATIONS,
    ids=[f"{r}: {b}" for r, _, b in BOUNDARY_MUTATIONS],
)
async def test_a_moved_threshold_or_boundary_fails_a_scenario(
    tmp_path: Path, recipe: str, good: str, bad: str
) -> None:
    results = await run_scenario(load_scenario(_broken_copy(tmp_path, recipe, good, bad)))
    assert any(not r.passed for r in results), f"{recipe}: no scenario notices {bad!r}"
