"""The bound of a send's wait for its wallet's earlier sends (issue #19): the CLI option on
`run` and `serve`, and the runner config's ``pipeline_timeout``; bad values are usage
errors (exit 2) that say why."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.engine.config import parse_config
from runner.playbook.diagnostics import PlaybookError


@pytest.mark.parametrize("command", ["run", "serve"])
def test_the_option_is_offered_and_checked(command: str, tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(main, [command, "--help"])
    assert "--pipeline-timeout" in shown.output
    book = tmp_path / "book.yaml"
    book.write_text("version: 1\n", encoding="utf-8")
    for bad in ("0s", "soon"):
        refused = runner.invoke(main, [command, "--pipeline-timeout", bad, str(book)])
        assert refused.exit_code == 2, refused.output
        assert "--pipeline-timeout" in refused.output
        assert "Traceback" not in refused.output


def test_the_config_sets_it_and_refuses_nonsense() -> None:
    assert parse_config("pipeline_timeout: 90s\n", "c.yaml").pipeline_timeout == timedelta(
        seconds=90
    )
    assert parse_config("limits: {}\n", "c.yaml").pipeline_timeout is None
    for bad in ("pipeline_timeout: 0s\n", "pipeline_timeout: 5\n", "pipeline_timout: 5s\n"):
        with pytest.raises(PlaybookError) as raised:
            parse_config(bad, "c.yaml")
        assert "c.yaml:1:" in str(raised.value)
