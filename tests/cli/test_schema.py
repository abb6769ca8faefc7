"""`waiaas-run schema` prints the generated schema (the committed copy must match it)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from runner.cli import main
from runner.playbook import schema_text


def test_schema_command_prints_the_generated_schema() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == schema_text()
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) >= {"version", "daemon", "wallets", "steps", "limits"}
