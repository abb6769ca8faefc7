"""The mutation corpus for the shipped scenario files (``playbooks/*.test.yaml``): each
mutation, validated in-process beside its playbook, is exit 2 with a problem located on
the mutated line (or beside it) and no traceback. Generated from the files, so a new
recipe's scenarios are covered when they are added."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.playbook.mutations import scenario_files, scenario_mutations
from tests.playbook.test_recipe_mutations import refusal_problem, validate

SCENARIOS = scenario_files()


def test_every_recipe_has_a_scenario_file() -> None:
    recipes = {p.name.removesuffix(".test.yaml") for p in SCENARIOS}
    assert recipes == {
        p.stem for p in (SCENARIOS[0].parent).glob("*.yaml") if not p.name.endswith(".test.yaml")
    }


@pytest.mark.parametrize("source", SCENARIOS, ids=lambda path: path.name)
def test_every_mutation_is_refused_where_it_is_made(source: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    shutil.copy(source.with_name(source.name.replace(".test.yaml", ".yaml")), tmp_path)
    file = tmp_path / source.name
    failures = []
    mutations = scenario_mutations(source)
    for mutation in mutations:
        file.write_text(mutation.text, encoding="utf-8")
        problem = refusal_problem(mutation, file)
        if problem is not None:
            failures.append(f"{mutation.id}: {problem}\n{validate(file)[1]}")
    assert not failures, f"{len(failures)} of {len(mutations)}:\n" + "\n".join(failures[:20])
    assert len(mutations) >= 20
    assert time.monotonic() - started < 10
