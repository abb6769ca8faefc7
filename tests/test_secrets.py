"""The session token never reaches output (text or JSON), logs, errors or the ledger."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

LEAKY = """
version: 1
name: leaky
env:
  WAIAAS_URL: ~
  WAIAAS_SESSION_TOKEN: ~
daemon:
  url: "${{ env.WAIAAS_URL }}"
  token: "${{ env.WAIAAS_SESSION_TOKEN }}"
wallets:
  agent: { name: agent, network: ethereum-sepolia }
steps:
  - id: agent
    balance: { wallet: agent }
  - log: "token is ${{ env.WAIAAS_SESSION_TOKEN }}"
"""


@pytest.fixture(scope="module")
def daemon() -> Iterator[dict[str, str]]:
    """A sandbox in its own process (the CLI runs its own event loop in this one)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "sandbox", "--port", "0", "--no-rate-limits"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = json.loads(process.stdout.readline())
    yield ready
    process.terminate()
    process.wait(timeout=10)


def _pieces(token: str) -> list[str]:
    jwt = token.removeprefix("wai_sess_")
    return [token, jwt, *jwt.split(".")[1:]]  # the header part is a shared constant


def _ledger_text(path: Path) -> str:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(str(row) for t in tables for row in db.execute(f"SELECT * FROM {t}"))


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_run_never_shows_the_token(
    daemon: dict[str, str], tmp_path: Path, output: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ledger = tmp_path / "ledger.sqlite3"
    env = {"WAIAAS_URL": daemon["url"], "WAIAAS_SESSION_TOKEN": daemon["token"]}
    runner = CliRunner()
    quickstart = runner.invoke(
        main,
        ["plan", "--output", output, "--state", str(ledger), str(EXAMPLES / "quickstart.yaml")],
        env=env,
    )
    assert quickstart.exit_code == 0, quickstart.output
    leaky_file = tmp_path / "leaky.yaml"
    leaky_file.write_text(LEAKY)
    leaky = runner.invoke(
        main, ["run", "--output", output, "--state", str(ledger), str(leaky_file)], env=env
    )
    assert leaky.exit_code == 2  # reading the token outside daemon.token is a load error
    assert "env.WAIAAS_SESSION_TOKEN holds the session token" in leaky.output
    texts = [quickstart.output, leaky.output, _ledger_text(ledger)]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        for piece in _pieces(daemon["token"]):
            assert piece not in text


def test_a_bad_token_is_not_echoed(daemon: dict[str, str], tmp_path: Path) -> None:
    bad = "wai_sess_eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub3BlIn0.c2VjcmV0LXNpZ25hdHVyZQ"
    result = CliRunner().invoke(
        main,
        ["run", "--state", str(tmp_path / "l.sqlite3"), str(EXAMPLES / "quickstart.yaml")],
        env={"WAIAAS_URL": daemon["url"], "WAIAAS_SESSION_TOKEN": bad},
    )
    assert result.exit_code == 1
    assert "INVALID_TOKEN" in result.output
    for piece in _pieces(bad):
        assert piece not in result.output
