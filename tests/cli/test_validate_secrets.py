"""`waiaas-run validate` never prints a session token, in text or JSON, wherever it sits."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from tests.cli.test_validate import VALID

SECRET = "eyJhbGciOiJIUzI1NiJ9.dG9wLXNlY3JldA.c2ln"
TOKEN = f"wai_sess_{SECRET}"
PLACES = {
    "var_key": VALID + f"vars:\n  {TOKEN}: x\n",
    "var_value": VALID + f"vars:\n  x: {TOKEN}\n",
    "nested_key": VALID.replace("  - log: hello\n", f"  - log: hello\n    {TOKEN}: 1\n"),
    "log_text": VALID.replace("log: hello", f'log: "{TOKEN}"'),
    "unknown_top_key": VALID + f"{TOKEN}:\n  a: 1\n",
    "flow_key": VALID + f"wallets2: {{{TOKEN}: 1}}\n",
    "quoted_key": VALID + f'vars: {{"{TOKEN}": 1}}\n',
    "duplicate_key": VALID + f"vars:\n  {TOKEN}: 1\n  {TOKEN}: 2\n",
}


@pytest.mark.parametrize("output", ["text", "json"])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_validate_output_never_contains_the_token(tmp_path: Path, place: str, output: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PLACES[place], encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--output", output, str(path)])
    assert result.exit_code == 2, result.output
    # the problem is named (or the key shown masked) ...
    assert "session token" in result.output or "wai_sess_…" in result.output
    assert SECRET not in result.output  # ... without the token
