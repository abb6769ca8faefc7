"""The JSON Schema of scenario test files, generated from the models (for editors)."""

from __future__ import annotations

import json
from typing import Any

from runner.scenario.models import ScenarioFile

__all__ = ["SCENARIO_SCHEMA_FILE", "scenario_schema", "scenario_schema_text"]

SCENARIO_SCHEMA_FILE = "playbooks/scenario.schema.json"  # the committed copy


def scenario_schema() -> dict[str, Any]:
    schema = ScenarioFile.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "waiaas-runner scenario test file (<playbook>.test.yaml)",
    }


def scenario_schema_text() -> str:
    return json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n"
