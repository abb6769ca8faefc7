"""The JSON Schema of playbooks, generated from the models (for editors and CI)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from runner.playbook.models import Playbook

__all__ = ["SCHEMA_FILE", "model_schema", "playbook_schema", "schema_file_text", "schema_text"]

SCHEMA_FILE = "playbooks/playbook.schema.json"  # the committed copy, relative to the repository


def model_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    """A model's JSON Schema as the committed schema files hold it (draft 2020-12)."""
    schema = model.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": title}


def schema_file_text(schema: dict[str, Any]) -> str:
    """Stable formatting and a trailing newline, so the committed copy can be compared."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def playbook_schema() -> dict[str, Any]:
    return model_schema(Playbook, "waiaas-runner playbook (format version 1)")


def schema_text() -> str:
    """The schema as written to playbook.schema.json."""
    return schema_file_text(playbook_schema())
