"""The JSON Schema: generated from the models, committed, and accepting every shipped playbook."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from runner.playbook import load_playbook, playbook_schema, schema_text
from runner.playbook.loader import load_yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    path
    for path in [*ROOT.glob("playbooks/**/*.yaml"), *ROOT.glob("examples/*.yaml")]
    if not path.name.endswith(".test.yaml")  # scenario files: tests/scenario checks them
)


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "playbooks" / "playbook.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "run: waiaas-run schema > playbooks/playbook.schema.json"


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(playbook_schema())


def test_there_are_shipped_playbooks() -> None:
    assert (ROOT / "examples" / "quickstart.yaml") in SHIPPED
    assert len(SHIPPED) >= 3


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_schema_accepts_every_shipped_playbook(path: Path) -> None:
    data, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
    jsonschema.Draft202012Validator(playbook_schema()).validate(data)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_every_shipped_playbook_is_valid(path: Path) -> None:
    load_playbook(path)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_playbooks_point_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    assert first.endswith("playbook.schema.json")


@pytest.mark.parametrize(
    "data",
    [
        {
            "version": 1,
            "name": "t",
            "daemon": {"url": "x", "token": "${{ env.T }}"},
            "steps": [{"balence": {}}],
        },
        {
            "version": 1,
            "name": "t",
            "daemon": {"url": "x", "token": "${{ env.T }}"},
            "steps": [],
            "extra": 1,
        },
        {
            "version": 2,
            "name": "t",
            "daemon": {"url": "x", "token": "${{ env.T }}"},
            "steps": [{"log": "x"}],
        },
    ],
)
def test_schema_rejects_what_the_models_reject(data: dict[str, object]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(playbook_schema()).validate(data)
