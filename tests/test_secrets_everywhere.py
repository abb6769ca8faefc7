"""No token survives anywhere the runner writes (issue 10).

A recognisable token is placed in the environment, a ``--var``, a key, a value, a memo and
files; representative commands run (validate, plan, run, history, resolve, ``--output
json``) with a webhook receiving the run's events, and neither that token nor the real
session token appears in any output, webhook body or byte of the ledger files.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.secrets import looks_like_token, mask_secrets, mask_values
from tests.test_secrets import _pieces, daemon  # noqa: F401 (the sandbox fixture)

MARKED = "wai_sess_eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtbWFya2VyIn0.c2VjcmV0LXNpZ25hdHVyZQ"

PLAYBOOK = """
version: 1
name: secretive
env:
  WAIAAS_URL: ~
  WAIAAS_SESSION_TOKEN: ~
  NOTE_SOURCE: ~
  HOOK: ~
daemon:
  url: "${{ env.WAIAAS_URL }}"
  token: "${{ env.WAIAAS_SESSION_TOKEN }}"
wallets:
  treasury: { name: treasury, network: ethereum-sepolia }
  agent: { name: agent, network: ethereum-sepolia }
vars:
  note: "plain"
steps:
  - id: agent
    balance: { wallet: agent }
  - log: "from env ${{ env.NOTE_SOURCE }} and var ${{ vars.note }}"
  - id: tell
    notify: { message: "note ${{ vars.note }} / ${{ env.NOTE_SOURCE }}" }
  - id: memo
    continue_on_error: true
    send: { from: treasury, to: agent, amount: "0.001 ETH", memo: "${{ vars.note }}" }
  - id: clean
    send: { from: treasury, to: agent, amount: "0.001 ETH", memo: "fine" }
  - assert: "false"
    message: "failing on purpose with ${{ vars.note }}"
notify:
  webhook: "${{ env.HOOK }}"
  on: [failure, send, success]
"""

KEYED = """
version: 1
name: keyed
daemon: { url: "http://127.0.0.1:1", token: "${{ env.T }}" }
vars:
  MARKER: 1
steps:
  - log: hi
""".replace("MARKER", MARKED)

VALUED = """
version: 1
name: valued
daemon: { url: "http://127.0.0.1:1", token: "${{ env.T }}" }
vars:
  v: "MARKER"
steps:
  - log: "${{ vars.v }}"
""".replace("MARKER", MARKED)


class _Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        _Hook.received.append(self.rfile.read(length))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def hook() -> Iterator[str]:
    _Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _ledger_bytes(path: Path) -> bytes:
    return b"".join(
        candidate.read_bytes()
        for candidate in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        )
        if candidate.exists()
    )


def test_masking_helpers() -> None:
    assert looks_like_token(f"memo {MARKED} end")
    assert looks_like_token("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")  # a bare JWT
    assert not looks_like_token("nightly sweep 20261128T013931Z-4d42c7")
    assert MARKED not in mask_secrets(json.dumps({"m": MARKED}))
    masked = mask_values({MARKED: [MARKED, 1, {"k": f"x {MARKED}"}]})
    assert MARKED not in json.dumps(masked) and 1 in next(iter(masked.values()))


@pytest.mark.parametrize("output", ["text", "json"])
def test_no_token_anywhere(
    daemon: dict[str, str],  # noqa: F811 (a fixture)
    hook: str,
    tmp_path: Path,
    output: str,
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    token_file = tmp_path / "token"
    token_file.write_text(daemon["token"] + "\n")
    playbook = tmp_path / "secretive.yaml"
    playbook.write_text(PLAYBOOK)
    (tmp_path / "keyed.yaml").write_text(KEYED)
    (tmp_path / "valued.yaml").write_text(VALUED)
    config = tmp_path / "config.yaml"
    config.write_text(f'limits: {{ max_per_send: "{MARKED}" }}\n')
    env = {
        "WAIAAS_URL": daemon["url"],
        "NOTE_SOURCE": MARKED,
        "HOOK": hook,
        "XDG_CONFIG_HOME": str(tmp_path / "no-config"),
        "WAIAAS_RUNNER_STATE": str(ledger),
    }
    runner = CliRunner()
    common = ["--output", output, "--token-file", str(token_file), "--var", f"note={MARKED}"]
    outputs = []
    for arguments, expected in [
        (["validate", "--output", output, str(tmp_path / "keyed.yaml")], 2),
        (["validate", "--output", output, str(tmp_path / "valued.yaml")], 2),
        (["plan", *common, str(playbook)], 1),
        (["run", *common, str(playbook)], 1),
        (["run", *common, "--config", str(config), str(playbook)], 2),
        (["history", "--output", output], 0),
        (["resolve", f"secretive/{MARKED}/memo", "--not-sent"], 2),
    ]:
        result = runner.invoke(main, arguments, env=env)
        assert result.exit_code == expected, (arguments, result.output)
        outputs.append(result.output)
    assert "the memo holds a session token; refused, nothing was sent" in "".join(outputs)
    assert len(_Hook.received) >= 2  # the send event and the failure event
    written = [*outputs, *(body.decode() for body in _Hook.received)]
    stored = _ledger_bytes(ledger)
    for piece in [*_pieces(MARKED), *_pieces(daemon["token"])]:
        for text in written:
            assert piece not in text
        assert piece.encode() not in stored
