"""``--http`` of `serve` and `status`: a bad address is a usage error (exit 2) that names
the option; a serve that cannot be reached, or something else answering on that port,
is a clear failure (exit 1) — never a traceback."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main

BAD = [
    "nothing",
    "",
    "a b:::",
    "::1:80",
    "127.0.0.1:99999",
    "127.0.0.1:-1",
    "host/path:80",
    "[:::]:9100",
    "[zz]:9100",
    "..:80",
    "a" * 64 + ":80",
    "a\x01b:9100",
    "1_0",
    "\u0661\u0660",
    "http://[::1",
    "http://xn--zz:9100",
    "http://[::1]:9100/?x",
    "ftp://example.org",
    "http://",
]


@pytest.mark.parametrize("address", BAD)
def test_status_refuses_an_address_it_cannot_use(address: str) -> None:
    result = CliRunner().invoke(main, ["status", "--http", address])
    assert result.exit_code == 2, result.output
    assert "--http" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("address", [a for a in BAD if "://" not in a])
def test_serve_refuses_an_address_it_cannot_listen_on(address: str, tmp_path: Path) -> None:
    playbook = tmp_path / "p.yaml"
    playbook.write_text("version: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", str(playbook), "--http", address])
    assert result.exit_code == 2, result.output
    assert "--http" in result.output


def test_status_of_a_port_nobody_listens_on_fails_clearly(unused_port: int) -> None:
    for address in (str(unused_port), f"127.0.0.1:{unused_port}", f"[::1]:{unused_port}"):
        result = CliRunner().invoke(main, ["status", "--http", address])
        assert result.exit_code == 1, result.output
        assert "cannot read http://" in result.output and "Traceback" not in result.output


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Foreign(http.server.BaseHTTPRequestHandler):
    body = b"[]"
    kind = "application/json"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.kind)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def foreign() -> Iterator[tuple[int, type[_Foreign]]]:
    handler = type("Handler", (_Foreign,), {})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"[]", "application/json"),
        (b"{}", "application/json"),
        (b'{"playbooks": 5, "sends_needing_attention": []}', "application/json"),
        (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    ],
)
def test_something_else_on_that_port_is_named_not_a_traceback(
    foreign: tuple[int, type[_Foreign]], body: bytes, kind: str
) -> None:
    port, handler = foreign
    handler.body, handler.kind = body, kind
    for extra in ([], ["--json"]):
        result = CliRunner().invoke(main, ["status", "--http", str(port), *extra])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert f"127.0.0.1:{port}/status" in result.output
