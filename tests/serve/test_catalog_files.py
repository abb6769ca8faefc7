"""What serve (and validate, status, the token and config readers) make of PATHS that are
not plain playbook files: a FIFO, a device, a broken symlink, a huge file. Each is reported
as a located error at once; none blocks the reader (a FIFO used to hang serve before its
signal handlers ran: only SIGKILL ended it)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.errors import UsageError
from runner.playbook.files import INPUT_FILE_LIMIT, read_input_file
from runner.serve.catalog import Catalog, load_catalog
from runner.serve.engine_adapter import LaunchOptions, connection_for
from tests.exactly_once.conftest import playbook_text

T = TypeVar("T")


def promptly(call: Callable[[], T], seconds: float = 10.0) -> T:
    """``call()`` in a thread: a reader that blocks fails the test instead of hanging it."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(call())
        except BaseException as error:
            failure.append(error)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the reader blocked"
    if failure:
        raise failure[0]
    return result[0]


def good(folder: Path, name: str = "good") -> Path:
    path = folder / f"{name}.yaml"
    body = "schedule: { interval: 1h }\nsteps:\n  - id: look\n    balance: { wallet: treasury }\n"
    path.write_text(playbook_text(body, name), encoding="utf-8")
    return path


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    books = tmp_path / "books"
    books.mkdir()
    good(books)
    os.mkfifo(books / "fifo.yaml")
    (books / "zero.yaml").symlink_to("/dev/zero")
    (books / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    (books / "loop.yaml").symlink_to(books / "loop.yaml")
    (books / "huge.yaml").write_bytes(b"# " + b"x" * INPUT_FILE_LIMIT + b"\n")
    return {"books": books, "fifo": books / "fifo.yaml", "zero": books / "zero.yaml"}


def test_serve_reports_every_non_file_in_a_directory_and_schedules_the_good_one(
    hostile: dict[str, Path],
) -> None:
    catalog: Catalog = promptly(lambda: load_catalog([hostile["books"]]))
    assert list(catalog.entries) == ["good"]
    reasons = {path.name: text for path, text in catalog.invalid.items()}
    assert "not a regular file" in reasons["fifo.yaml"]
    assert "not a regular file" in reasons["zero.yaml"]
    assert "No such file" in reasons["dangling.yaml"]  # its link broke: said, not ignored
    assert "symbolic links" in reasons["loop.yaml"]
    assert "larger than 1024 KiB" in reasons["huge.yaml"]


def test_serve_reports_a_fifo_or_device_named_directly(hostile: dict[str, Path]) -> None:
    catalog = promptly(lambda: load_catalog([hostile["fifo"], hostile["zero"]]))
    assert not catalog.entries
    assert all("not a regular file" in text for text in catalog.invalid.values())
    assert len(catalog.invalid) == 2


def test_validate_and_status_do_not_block_on_a_fifo(hostile: dict[str, Path]) -> None:
    result = promptly(lambda: CliRunner().invoke(main, ["validate", str(hostile["fifo"])]))
    assert result.exit_code == 2
    assert "not a regular file (a FIFO, socket or device)" in result.output


@pytest.mark.parametrize("kind", ["fifo", "zero", "directory"])
def test_a_token_file_that_is_not_a_file_is_a_usage_error(
    tmp_path: Path, hostile: dict[str, Path], kind: str
) -> None:
    token_file = tmp_path if kind == "directory" else hostile[kind]
    playbook = promptly(lambda: load_catalog([hostile["books"]])).entries["good"]
    options = LaunchOptions(daemon_url="http://127.0.0.1:1", token_file=token_file)
    with pytest.raises(UsageError, match="cannot read the token file"):
        promptly(lambda: connection_for(playbook.playbook, playbook.path, options))


def test_the_reader_takes_a_regular_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a" * INPUT_FILE_LIMIT)
    assert len(read_input_file(path)) == INPUT_FILE_LIMIT


def test_one_file_reached_by_several_routes_is_one_playbook(tmp_path: Path) -> None:
    """Reproduction: `serve books /abs/books books/../books/good.yaml booklink` reported
    the one file as three more playbooks 'already using' its own name (invalid)."""
    books = tmp_path / "books"
    books.mkdir()
    good(books)
    (tmp_path / "booklink").symlink_to(books)
    routes = [books, books.resolve(), books / ".." / "books" / "good.yaml", tmp_path / "booklink"]
    catalog = load_catalog(routes)
    assert list(catalog.entries) == ["good"]
    assert catalog.invalid == {}
