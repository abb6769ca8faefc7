"""A one-shot run pays only for what it uses (issue #13): a cron tick with
``--output json`` against a daemon never imports the sandbox, its HTTP server (aiohttp),
or the terminal library (rich)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exactly_once.processes import sandbox_process

PLAYBOOK = """\
version: 1
name: one-balance
daemon:
  url: "${{ env.WAIAAS_URL }}"
  token: "${{ env.WAIAAS_SESSION_TOKEN }}"
  network: ethereum-sepolia
wallets:
  treasury: { name: treasury, network: ethereum-sepolia }
steps:
  - id: b
    balance: { wallet: treasury }
"""
# runs the console script's entry point, then lists every module the process imported
PROBE = """\
import json, sys
from runner.cli import main
sys.argv = ["waiaas-run", *sys.argv[1:]]
try:
    main()
except SystemExit as done:
    code = done.code
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""
FORBIDDEN = ("aiohttp", "rich", "runner.sandbox", "jwt", "jsonschema")
# what a run of a playbook without a schedule, without a checksummed address and without
# a failure does not need: the cron parser, the Keccak hash, the retry machinery, and
# filelock's asyncio backends (the locks poll from the event loop themselves)
NOT_FOR_A_PLAIN_RUN = ("apscheduler", "Crypto", "tenacity", "filelock.asyncio", "filelock._async")


def _modules(tmp_path: Path, *args: str, env: dict[str, str]) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        cwd=tmp_path,
    )
    last = done.stdout.strip().splitlines()[-1]
    found = json.loads(last)
    return found["exit"], found["modules"]


@pytest.mark.parametrize("command", [["run", "--output", "json"], ["validate", "--output", "json"]])
def test_a_one_shot_command_imports_nothing_it_does_not_use(
    tmp_path: Path, command: list[str]
) -> None:
    playbook = tmp_path / "one.yaml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    with sandbox_process(tmp_path) as daemon:
        env = {
            "WAIAAS_URL": daemon.url,
            "WAIAAS_SESSION_TOKEN": daemon.token,
            "WAIAAS_RUNNER_STATE": str(tmp_path / "ledger.sqlite3"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }
        code, modules = _modules(tmp_path, *command, str(playbook), env=env)
    assert code in (0, None)
    forbidden = FORBIDDEN + (NOT_FOR_A_PLAIN_RUN if command[0] == "run" else ())
    loaded = [m for m in modules if m.split(".")[0] in forbidden or m.startswith(forbidden)]
    assert loaded == []
