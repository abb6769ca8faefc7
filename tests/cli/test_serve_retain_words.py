"""serve's --retain and the config's retain: turn off with the word --audit-every uses
too, and a retention shorter than the audit's window says so in durations a person wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.engine.config import retention_seconds
from runner.playbook.durations import DurationError
from tests.cli.test_serve_audit_options import serve


@pytest.mark.parametrize("word", ["never", "off", "NEVER", " Off "])
def test_retention_turns_off_with_never_or_off(word: str) -> None:
    assert retention_seconds(word) is None


@pytest.mark.parametrize("text", ["no", "0", "0d", "-1d", "", "forever", "1.5d"])
def test_other_words_are_refused(text: str) -> None:
    with pytest.raises(DurationError):
        retention_seconds(text)


def test_a_quoted_off_in_the_config_is_taken(tmp_path: Path) -> None:
    """Reproduction: `retain: off` was refused with 'quote it: "off"', and the quoted
    "off" then as an invalid duration."""
    config = tmp_path / "config.yaml"
    config.write_text('retain: "off"\n', encoding="utf-8")
    # a retention that is off never conflicts with the audit's window (10d here)
    code, output = serve(
        tmp_path,
        "--state",
        str(tmp_path / "l.sqlite3"),
        "--config",
        str(config),
        "--audit-since",
        "10d",
    )
    assert "--retain" not in output and "--audit-since" not in output, output
    assert code == 2 and "Traceback" not in output  # p.yaml is no playbook: nothing served


def test_a_short_retention_names_the_default_window_in_durations(tmp_path: Path) -> None:
    code, output = serve(tmp_path, "--state", str(tmp_path / "l.sqlite3"), "--retain", "1h")
    assert code == 2
    flat = " ".join(output.split())
    assert "1d back (the default)" in flat and "retain: 1h" in flat, flat
    assert "--audit-every off" in flat and "86400s" not in flat


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--audit-since", "2d"], "--audit-since"),
        (["--audit-webhook", "http://127.0.0.1:9/hook"], "--audit-webhook"),
        (["--audit-cancel-queued"], "--audit-cancel-queued"),
        (["--audit-max-list-reads", "3"], "--audit-max-list-reads"),
    ],
)
def test_audit_options_with_the_audit_off_are_said_to_do_nothing(
    tmp_path: Path, options: list[str], named: str
) -> None:
    code, output = serve(
        tmp_path, "--state", str(tmp_path / "l.sqlite3"), "--audit-every", "off", *options
    )
    assert code == 2  # p.yaml is no playbook: nothing is served
    assert f"{named}: no effect, the periodic audit is off" in output, output
    assert "hook" not in output.replace("--audit-webhook", "")  # the URL is never quoted


def test_a_webhook_from_the_environment_with_the_audit_off_is_not_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAIAAS_AUDIT_WEBHOOK", "http://127.0.0.1:9/hook")
    _, output = serve(tmp_path, "--state", str(tmp_path / "l.sqlite3"), "--audit-every", "off")
    assert "no effect" not in output
