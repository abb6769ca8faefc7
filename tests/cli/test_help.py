"""`waiaas-run --help` shows each command's whole summary, wrapped, never cut (issue 10)."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from runner.cli import _COMMANDS, main

# Hand-written for the commands whose first sentence is long enough to be cut; every other
# command is checked against its own first sentence below.
SUMMARIES = {
    "history": "List runs and their sends with their states (intended, accepted, unknown, "
    "not_sent) and the transactions' last known statuses.",
    "plan": "Perform the reads, evaluate conditions, simulate every send that would happen "
    "and chain projected balances through later steps.",
    "sandbox": "Serve a local stand-in for the WAIaaS daemon (a test double: no keys, no chain).",
    "schema": "Print the JSON Schema of playbooks (the source of playbooks/playbook.schema.json).",
    "test": "Run the scenario tests (*.test.yaml) of playbooks against in-process sandboxes.",
    "validate": "Check playbooks: YAML, keys, amounts, expressions, references, limits.",
}


def _first_sentence(command: str) -> str:
    found = main.get_command(click.Context(main), command)
    assert found is not None and found.help
    return " ".join(found.help.split("\n\n", 1)[0].split())


def _help(width: int) -> str:
    result = CliRunner().invoke(main, ["--help"], terminal_width=width)
    assert result.exit_code == 0
    return result.output


def test_the_hand_written_summaries_are_still_the_commands_own() -> None:
    assert set(SUMMARIES) <= set(_COMMANDS)
    for command, summary in SUMMARIES.items():
        assert _first_sentence(command).startswith(summary)


@pytest.mark.parametrize("command", sorted(_COMMANDS))
@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_whole_summary_is_shown(command: str, width: int) -> None:
    section = _help(width).split("Commands:", 1)[1]
    assert "..." not in section
    summary = SUMMARIES.get(command) or _first_sentence(command).split(". ")[0]
    shown = re.sub(r"-\s+", "-", " ".join(section.split()))  # the wrapper breaks after hyphens
    assert shown.count(summary) == 1
