"""serve's audit options: an interval or off, a window that covers the interval, and a
webhook URL that is checked without ever being quoted."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.cli.serve import _audit_window


def serve(tmp_path: Path, *options: str) -> tuple[int, str]:
    book = tmp_path / "p.yaml"
    book.write_text("version: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", str(book), *options])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--audit-every", "banana"], "--audit-every"),
        (["--audit-every", "0s"], "--audit-every"),
        (["--audit-every", "1h", "--audit-since", "30m"], "--audit-since"),
        (["--audit-max-list-reads", "0"], "--audit-max-list-reads"),
        (["--audit-webhook", "ftp://hunter2@example.invalid/x"], "--audit-webhook"),
        (["--audit-webhook", "not a url"], "--audit-webhook"),
        # the audit would read sends that retention may already have removed
        (["--audit-every", "1h", "--audit-since", "10d", "--retain", "7d"], "--audit-since"),
        (["--audit-every", "4d", "--retain", "7d"], "--audit-since"),
    ],
)
def test_bad_audit_options_are_usage_errors(options: list[str], named: str, tmp_path: Path) -> None:
    code, output = serve(tmp_path, "--state", str(tmp_path / "l.sqlite3"), *options)
    assert code == 2, output
    assert named in output and "Traceback" not in output
    assert "hunter2" not in output  # a webhook URL may carry a secret: never quoted


def test_the_window_covers_the_interval() -> None:
    assert _audit_window(3600.0, None) == 86400.0  # 24 h by default
    assert _audit_window(2 * 86400.0, None) == 4 * 86400.0  # twice a longer interval
    assert _audit_window(None, None) == 86400.0  # off: the default window, unused
    assert _audit_window(3600.0, 3600.0) == 3600.0


def test_an_audit_within_the_retention_is_accepted(tmp_path: Path) -> None:
    """The usage check above judges only the pair: a window inside the retention passes it
    (the run then stops on the empty playbook, not on the options)."""
    _, output = serve(
        tmp_path,
        "--state",
        str(tmp_path / "l.sqlite3"),
        "--audit-every",
        "1h",
        "--audit-since",
        "2d",
        "--retain",
        "7d",
    )
    assert "--audit-since" not in output, output
