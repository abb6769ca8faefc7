"""The JSON Schema of scenario test files, generated from the models (for editors)."""

from __future__ import annotations

from typing import Any

from runner.playbook.schema import model_schema, schema_file_text
from runner.scenario.models import ScenarioFile

__all__ = ["SCENARIO_SCHEMA_FILE", "scenario_schema", "scenario_schema_text"]

SCENARIO_SCHEMA_FILE = "playbooks/scenario.schema.json"  # the committed copy


def scenario_schema() -> dict[str, Any]:
    return model_schema(ScenarioFile, "waiaas-runner scenario test file (<playbook>.test.yaml)")


def scenario_schema_text() -> str:
    return schema_file_text(scenario_schema())
