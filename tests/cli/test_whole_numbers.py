"""Every whole-number option of the command line takes the digits 0-9 only: Python's
int() also reads Arabic-Indic or full-width digits and underscores, so `--max-list-reads` given an
Arabic-Indic one ran an audit with one list read instead of refusing a typo."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main

# each whole-number option, with the rest of a command line that would otherwise run
OPTIONS = [
    ("audit", "--max-list-reads"),
    ("history", "--limit"),
    ("ledger prune --older-than 1d", "--batch"),
    ("serve", "--max-concurrent-runs"),
    ("serve", "--audit-max-list-reads"),
]

NOT_WRITTEN_IN_DIGITS = ["\u0661", "\uff15", "\u0665\u0660", "1_0", "\u00b2", "1.0", "1e1", "", " "]


@pytest.mark.parametrize("value", NOT_WRITTEN_IN_DIGITS)
@pytest.mark.parametrize(("command", "option"), OPTIONS)
def test_a_number_not_written_in_ascii_digits_is_a_usage_error(
    tmp_path: Path, command: str, option: str, value: str
) -> None:
    state = tmp_path / "ledger.sqlite3"
    args = [*command.split(), option, value, "--state", str(state)]
    if command == "serve":
        args.append(str(tmp_path))  # parsing fails first; nothing is served
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert option in result.output and "Traceback" not in result.output
    assert not state.exists()


@pytest.mark.parametrize("value", ["5", " 5", "+5", "05"])
def test_plain_digits_are_taken(tmp_path: Path, value: str) -> None:
    state = tmp_path / "ledger.sqlite3"
    state.touch()
    result = CliRunner().invoke(main, ["history", "--limit", value, "--state", str(state)])
    assert result.exit_code == 0, result.output


def test_the_range_still_says_what_it_is(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["audit", "--max-list-reads", "0"])
    assert result.exit_code == 2 and "x>=1" in result.output
