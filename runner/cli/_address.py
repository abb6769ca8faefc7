"""``--http HOST:PORT`` for `serve` (where to listen) and `status` (where serve listens)."""

from __future__ import annotations

import click
import httpx

__all__ = ["listen_address", "status_url"]

LOOPBACK = "127.0.0.1"


def _host_port(value: str, *, lowest_port: int) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``PORT`` (on the loopback address)."""
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = LOOPBACK, value
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise click.BadParameter(
            f"write an IPv6 address in brackets, e.g. [::1]:9100, not {value!r}"
        )
    try:
        number = int(port)
    except ValueError:
        raise click.BadParameter(f"expected HOST:PORT or PORT, got {value!r}") from None
    if not lowest_port <= number <= 65535:
        raise click.BadParameter(f"port {number} is out of range ({lowest_port}-65535)")
    if any(char.isspace() or char in "/?#@" for char in host):
        raise click.BadParameter(f"{host!r} is not a host name or address")
    return host or LOOPBACK, number


def listen_address(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, int] | None:
    """Where serve listens; port 0 picks a free one."""
    return None if value is None else _host_port(value, lowest_port=0)


def status_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The base URL of a running serve: ``HOST:PORT``, ``PORT`` or an http(s) URL."""
    if value is None:
        return None
    if "://" not in value:
        host, port = _host_port(value, lowest_port=1)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as error:
        raise click.BadParameter(f"{value!r} is not a URL: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise click.BadParameter(f"expected an http:// or https:// URL, got {value!r}")
    return str(url).rstrip("/")
