"""serve's --http: a URL (what `status --http` takes) is refused with what to write
instead, and the address serve logs is one a person can open (IPv6 in brackets)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.serve.http import HttpEndpoints


@pytest.mark.parametrize(
    ("url", "instead"),
    [
        ("http://127.0.0.1:9464", "'127.0.0.1:9464'"),
        ("https://localhost:9464/", "'localhost:9464'"),
        ("http://[::1]:9464", "'[::1]:9464'"),
    ],
)
def test_a_url_is_refused_with_the_form_to_write(tmp_path: Path, url: str, instead: str) -> None:
    """Reproduction: `serve --http http://127.0.0.1:0` said 'write an IPv6 address in
    brackets'."""
    playbook = tmp_path / "p.yaml"
    playbook.write_text("version: 1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", str(playbook), "--http", url])
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())
    assert "--http" in flat and "not a URL" in flat and instead in flat, flat
    assert "IPv6" not in flat


def test_the_logged_address_of_an_ipv6_listener_can_be_opened(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Reproduction: `serve --http [::1]:0` logged 'http endpoints on http://::1:37155'."""

    async def start_and_stop() -> int:
        endpoints = HttpEndpoints(object(), "::1", 0)
        await endpoints.start()
        await endpoints.close()
        return endpoints.port

    with caplog.at_level(logging.INFO, logger="runner.serve"):
        port = asyncio.run(start_and_stop())
    assert f"http endpoints on http://[::1]:{port} " in caplog.text, caplog.text
