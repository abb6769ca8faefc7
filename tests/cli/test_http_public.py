"""`serve --http` beyond loopback: the status page and /status show wallet addresses, so
any address that is not loopback (a wildcard, a LAN address, a name that resolves
elsewhere) is refused with exit 2 unless --http-public is given, which logs a warning."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.cli._address import is_loopback

NAMES = {  # what the resolver answers for made-up names (no DNS in tests)
    "wallets.example": ["192.0.2.5"],
    "mixed.example": ["127.0.0.1", "192.0.2.5"],
    "v6.example": ["2001:db8::5"],
    "loop.example": ["127.0.0.53", "::1"],
}
PUBLIC = [
    "0.0.0.0:0",
    "[::]:0",
    "10.0.0.1:0",
    "192.0.2.5:9100",
    "[2001:db8::1]:0",
    "[::ffff:192.0.2.5]:0",
    "wallets.example:0",
    "mixed.example:0",
    "v6.example:0",
]
LOOPBACK = ["127.0.0.1:0", "127.1.2.3:0", "[::1]:0", "localhost:0", ":0", "0", "loop.example:0"]


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def answer(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in NAMES:
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, 0),
                )
                for ip in NAMES[host]
            ]
        if host == "nowhere.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", answer)


def _serve(tmp_path: Path, *args: str) -> Any:
    playbook = tmp_path / "p.yaml"  # not a serveable playbook: serve stops right after
    playbook.write_text("version: 1\n", encoding="utf-8")
    return CliRunner().invoke(main, ["serve", str(playbook), "--state", str(tmp_path / "l"), *args])


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_bind_is_refused_without_the_flag(address: str, tmp_path: Path) -> None:
    result = _serve(tmp_path, "--http", address)
    assert result.exit_code == 2, result.output
    assert "is not a loopback address" in result.output and "--http-public" in result.output
    assert "wallet addresses" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("address", LOOPBACK)
def test_loopback_needs_no_flag(address: str, tmp_path: Path) -> None:
    result = _serve(tmp_path, "--http", address)
    assert "not a loopback address" not in result.output
    assert "no playbook with a schedule" in result.output  # it went on to start


# addresses this machine does not have: the bind then fails, nothing listens beyond loopback
@pytest.mark.parametrize("address", ["192.0.2.5:0", "wallets.example:0"])
def test_the_flag_allows_it_with_a_warning(address: str, tmp_path: Path) -> None:
    result = _serve(tmp_path, "--http", address, "--http-public", "--log-format", "text")
    assert "not a loopback address" not in result.output
    assert "--http-public: the status page (/) and /status on" in result.output
    assert "show wallet addresses" in result.output


def test_the_flag_without_http_and_an_unresolvable_name_are_usage_errors(tmp_path: Path) -> None:
    result = _serve(tmp_path, "--http-public")
    assert result.exit_code == 2 and "--http-public only applies with --http" in result.output
    result = _serve(tmp_path, "--http", "nowhere.invalid:0")
    assert result.exit_code == 2 and "cannot resolve 'nowhere.invalid'" in result.output


def test_is_loopback() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.0.2.5", "fe80::1"))
