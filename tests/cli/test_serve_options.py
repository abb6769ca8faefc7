"""Numbers given to serve and to durations are ASCII decimal digits: Python's int() and
regex \\d would also take '1_0', Arabic-Indic or full-width digits."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.ledger.slots import SlotLog
from runner.playbook.durations import DurationError, parse_duration
from tests.exactly_once.conftest import playbook_text


@pytest.mark.parametrize(
    "limits", ["-5,0,10", "1_0,3,7", "\u0661\u0660,1,1", "1,2", "0,1,1", "a,b,c"]
)
def test_daemon_limits_are_three_whole_numbers_of_at_least_one(limits: str, tmp_path: Path) -> None:
    book = tmp_path / "p.yaml"
    book.write_text("version: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", str(book), "--daemon-limits", limits])
    assert result.exit_code == 2, result.output
    assert "--daemon-limits" in result.output


@pytest.mark.parametrize("text", ["\u0661\u0660m", "\uff11\uff10s", "1_0s", "+5s", "5 s"])
def test_durations_are_ascii_digits_and_a_unit(text: str) -> None:
    with pytest.raises(DurationError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "option", [["--drain-timeout", "\u0661\u0660s"], ["--drain-timeout", "\uff11s"]]
)
def test_a_duration_option_with_other_digits_is_a_usage_error(
    option: list[str], tmp_path: Path
) -> None:
    book = tmp_path / "p.yaml"
    book.write_text("version: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", str(book), *option])
    assert result.exit_code == 2, result.output
    assert "invalid duration" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["plan", "--timeout", "0s"],
        ["run", "--request-timeout", "0ms"],
        ["serve", "--drain-timeout", "0s"],
        ["serve", "--request-timeout", "0s"],
    ],
)
def test_a_duration_of_no_time_is_a_usage_error(command: list[str], tmp_path: Path) -> None:
    book = tmp_path / "p.yaml"
    book.write_text("version: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, [command[0], str(book), *command[1:]])
    assert result.exit_code == 2, result.output
    assert "no time at all" in result.output


def test_a_busy_http_port_stops_serve_before_any_run(tmp_path: Path) -> None:
    """Reproduction: serve --http on a port already taken loaded and scheduled the
    playbooks, fired (and recorded) slots, and only then failed to listen (exit 2): runs,
    and sends, of a serve that was refused."""
    book = tmp_path / "p.yaml"
    body = "schedule: { interval: 1s }\nsteps:\n  - id: look\n    balance: { wallet: treasury }\n"
    book.write_text(playbook_text(body, "p"), encoding="utf-8")
    state = tmp_path / "ledger.sqlite3"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"WAIAAS_URL": "http://127.0.0.1:9", "WAIAAS_SESSION_TOKEN": "wai_sess_x"}
        result = CliRunner().invoke(
            main,
            ["serve", str(book), "--state", str(state), "--http", f"127.0.0.1:{port}"],
            env=env,
        )
    assert result.exit_code == 2, result.output
    assert "--http" in result.output
    assert "serving 1 playbook" not in result.output
    log = SlotLog(state)
    try:
        assert log.playbooks() == []
    finally:
        log.close()
