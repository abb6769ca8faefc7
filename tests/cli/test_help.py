"""`waiaas-run --help` shows each command's whole summary, wrapped, never cut (issue 10)."""

from __future__ import annotations

import click
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
    "validate": "Check playbooks: YAML, keys, amounts, expressions, references, limits.",
}


def _bare(text: str) -> str:
    """Without the whitespace the terminal wrapping adds (it may break after a hyphen)."""
    return "".join(text.split())


def _help(width: int) -> str:
    result = CliRunner().invoke(main, ["--help"], terminal_width=width)
    assert result.exit_code == 0
    return result.output


def test_the_summaries_above_are_the_commands_own() -> None:
    ctx = click.Context(main)
    for name, summary in SUMMARIES.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.get_short_help_str(limit=1_000) == summary


@pytest.mark.parametrize("width", [60, 80, 120])
def test_every_command_is_listed_whole(width: int) -> None:
    ctx = click.Context(main)
    section = _bare(_help(width).split("Commands:", 1)[1])
    for name in _COMMANDS:  # including commands other modules add
        command = main.get_command(ctx, name)
        assert command is not None
        assert _bare(command.get_short_help_str(limit=1_000)) in section, name


@pytest.mark.parametrize("command", sorted(SUMMARIES))
@pytest.mark.parametrize("width", [60, 80, 120])
def test_the_whole_summary_is_shown(command: str, width: int) -> None:
    section = _help(width).split("Commands:", 1)[1]
    assert "..." not in section
    assert _bare(section).count(_bare(SUMMARIES[command])) == 1
