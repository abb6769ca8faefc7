"""What a step says is printed once: on the run's output, not again as a stderr warning
(issue 10: wait timeouts were printed twice)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
HEAD = """\
version: 1
name: once
env: { WAIAAS_URL: "http://127.0.0.1:3100", WAIAAS_SESSION_TOKEN: ~ }
daemon: { url: "${{ env.WAIAAS_URL }}", token: "${{ env.WAIAAS_SESSION_TOKEN }}" }
wallets:
  treasury: { name: treasury, network: ethereum-sepolia }
  agent: { name: agent, network: ethereum-sepolia }
steps:
  - id: pay
    send: { from: treasury, to: agent, amount: "0.08 ETH" }   # DELAY tier: queued 5 s
"""

CASES = {
    "continue": (
        '  - wait: { transaction: "${{ steps.pay.id }}", timeout: 1s, on_timeout: continue }\n',
        "(on_timeout: continue)",
        0,
    ),
    "fail": (
        '  - wait: { transaction: "${{ steps.pay.id }}", timeout: 1s, on_timeout: fail }\n',
        "(on_timeout: fail)",
        1,
    ),
    "cancel": (
        '  - wait: { transaction: "${{ steps.pay.id }}", timeout: 1s, on_timeout: cancel }\n',
        ": cancelled",
        0,
    ),
    "pending": (
        "  - pending: { wallet: treasury, until_empty: true, interval: 1s }\n    timeout: 1s\n",
        "timed out after 1s",
        1,
    ),
    "log warning": ('  - log: "look at me"\n    level: warning\n', "look at me", 0),
}


def run(tmp_path: Path, steps: str, *options: str) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "once.yaml"
    playbook.write_text(HEAD + steps, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIAAS_")}
    return subprocess.run(
        [sys.executable, "-m", "runner", "run", "--sandbox", *options, str(playbook)],
        cwd=ROOT,
        env=env | {"HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_said_once_in_text(tmp_path: Path, case: str) -> None:
    steps, says, code = CASES[case]
    result = run(tmp_path, steps)
    assert result.returncode == code, result.stdout + result.stderr
    assert (result.stdout + result.stderr).count(says) == 1, result.stdout + result.stderr


def test_said_once_in_json_and_never_on_stderr(tmp_path: Path) -> None:
    steps, says, _ = CASES["continue"]
    result = run(tmp_path, steps, "--output", "json")
    assert says not in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert sum(says in json.dumps(event) for event in events) == 1
