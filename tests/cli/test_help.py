"""`waiaas-run --help` shows each command's whole summary, wrapped, never cut (issue 10)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from runner.cli import _COMMANDS, main

SUMMARIES = {
    "history": "List runs and their sends with their states (intended, accepted, unknown, "
    "not_sent) and the transactions' last known statuses.",
    "ledger": "Look after the run ledger.",
    "plan": "Perform the reads, evaluate conditions, simulate every send that would happen "
    "and chain projected balances through later steps.",
    "resolve": "Settle the send KEY (playbook/run-id/step, as `history` shows it).",
    "run": "Run playbooks against the daemon.",
    "sandbox": "Serve a local stand-in for the WAIaaS daemon (a test double: no keys, no chain).",
    "schema": "Print the JSON Schema of playbooks (the source of playbooks/playbook.schema.json).",
    "test": "Run the scenario tests (*.test.yaml) of playbooks against in-process sandboxes.",
    "validate": "Check playbooks: YAML, keys, amounts, expressions, references, limits.",
}


def _help(width: int) -> str:
    result = CliRunner().invoke(main, ["--help"], terminal_width=width)
    assert result.exit_code == 0
    return result.output


def test_every_command_is_listed() -> None:
    assert set(SUMMARIES) == set(_COMMANDS)


@pytest.mark.parametrize("command", sorted(SUMMARIES))
@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_whole_summary_is_shown(command: str, width: int) -> None:
    section = _help(width).split("Commands:", 1)[1]
    assert "..." not in section
    assert " ".join(section.split()).count(SUMMARIES[command]) == 1
