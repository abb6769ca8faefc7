"""The JSON Schema of playbooks, generated from the models (for editors and CI)."""

from __future__ import annotations

import json
from typing import Any

from runner.playbook.models import Playbook

__all__ = ["SCHEMA_FILE", "playbook_schema", "schema_text"]

SCHEMA_FILE = "playbooks/playbook.schema.json"  # the committed copy, relative to the repository


def playbook_schema() -> dict[str, Any]:
    schema = Playbook.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "waiaas-runner playbook (format version 1)",
    }


def schema_text() -> str:
    """The schema as written to playbook.schema.json (stable formatting, trailing newline)."""
    return json.dumps(playbook_schema(), indent=2, ensure_ascii=False) + "\n"
