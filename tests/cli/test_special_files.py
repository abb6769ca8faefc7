"""A device, a pipe or a huge file named where the runner reads a file (a playbook, the
runner config, a token file, a scenario) is refused at once with exit 2: reading
/dev/zero never ends, and opening a pipe nobody writes to never returns."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.playbook.files import INPUT_FILE_LIMIT, read_input_file
from tests.exactly_once.conftest import playbook_text

READ = """\
steps:
  - id: look
    balance: { wallet: treasury }
"""


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


@pytest.fixture
def huge(tmp_path: Path) -> Path:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# " + b"x" * INPUT_FILE_LIMIT + b"\n")
    return path


def test_read_input_file_refuses_what_is_not_a_regular_small_file(fifo: Path, huge: Path) -> None:
    for path, reason in (
        (Path("/dev/zero"), "not a regular file"),
        (fifo, "not a regular"),
        (huge, "larger than"),
    ):
        with pytest.raises(OSError, match=reason):
            read_input_file(path)


@pytest.mark.parametrize("command", [["validate"], ["plan"], ["run"], ["test"]])
def test_a_special_file_named_as_a_playbook_is_refused(
    command: list[str], fifo: Path, huge: Path
) -> None:
    for path in (Path("/dev/zero"), fifo, huge):
        result = CliRunner().invoke(main, [*command, str(path)])
        assert result.exit_code == 2, (command, path, result.output)
        assert "Traceback" not in result.output


def test_a_special_file_as_config_or_token_file_is_refused(tmp_path: Path, fifo: Path) -> None:
    book = tmp_path / "book.yaml"
    book.write_text(playbook_text(READ), encoding="utf-8")
    result = CliRunner().invoke(main, ["plan", "--config", str(fifo), str(book)])
    assert result.exit_code == 2, result.output
    assert "not a regular file" in result.output
    text = playbook_text(READ).replace(
        'token: "${{ env.WAIAAS_SESSION_TOKEN }}"', f"token_file: {fifo}"
    )
    assert "token_file" in text
    book.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["plan", str(book)], env={"WAIAAS_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert "not a regular file" in result.output
