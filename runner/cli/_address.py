"""``--http HOST:PORT`` for `serve` (where to listen) and `status` (where serve listens)."""

from __future__ import annotations

import ipaddress
import socket

import click
import httpx

__all__ = ["is_loopback", "listen_address", "status_url"]

LOOPBACK = "127.0.0.1"


def _host_port(value: str, *, lowest_port: int) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``PORT`` (on the loopback address)."""
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = LOOPBACK, value
    try:
        number = int(port) if port.isascii() and port.isdigit() else -1
    except ValueError:
        number = -1
    if number < 0:
        raise click.BadParameter(f"expected HOST:PORT or PORT, got {value!r}")
    if not lowest_port <= number <= 65535:
        raise click.BadParameter(f"port {number} is out of range ({lowest_port}-65535)")
    return _host(host, value) if host else LOOPBACK, number


def _host(host: str, value: str) -> str:
    """A host name or address that can be resolved or bound, or a located usage error."""
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise click.BadParameter(f"{host} is not an IPv6 address") from None
        return host[1:-1]
    if ":" in host:
        raise click.BadParameter(
            f"write an IPv6 address in brackets, e.g. [::1]:9100, not {value!r}"
        )
    if not host.isprintable() or any(char.isspace() or char in "/?#@[]%" for char in host):
        raise click.BadParameter(f"{host!r} is not a host name or address")
    try:
        host.encode("idna")  # empty or over-long labels ("..", 64 characters)
    except UnicodeError:
        raise click.BadParameter(f"{host!r} is not a host name or address") from None
    return host


def _loopback_address(text: str) -> bool:
    address = ipaddress.ip_address(text.partition("%")[0])  # fe80::1%eth0: zone dropped
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1
    return address.is_loopback


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` stands for is a loopback one (127.0.0.0/8, ::1):
    a name counts by what it resolves to now, so a name of this machine's LAN address or
    one that resolves elsewhere is not; one that does not resolve is a usage error."""
    try:
        return _loopback_address(host)
    except ValueError:
        pass  # a name, not an address
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise click.BadParameter(f"cannot resolve {host!r}: {error}", param_hint="--http") from None
    return bool(found) and all(_loopback_address(str(info[4][0])) for info in found)


def listen_address(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, int] | None:
    """Where serve listens; port 0 picks a free one."""
    if value is None:
        return None
    if "://" in value:  # what `status --http` takes: say what serve takes instead
        example = value.split("://", 1)[1].split("/", 1)[0] or "127.0.0.1:9464"
        raise click.BadParameter(
            f"serve listens on HOST:PORT (or PORT), not a URL: write {example!r}, not {value!r}"
        )
    return _host_port(value, lowest_port=0)


def status_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The base URL of a running serve: ``HOST:PORT``, ``PORT`` or an http(s) URL."""
    if value is None:
        return None
    if "://" not in value:
        host, port = _host_port(value, lowest_port=1)
        value = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    try:
        url = httpx.URL(value)
        host = url.host  # decodes an IDNA name: "xn--zz" fails here
    except (httpx.InvalidURL, ValueError) as error:  # idna's errors are ValueErrors
        raise click.BadParameter(f"{value!r} is not a URL: {error}") from None
    if url.scheme not in ("http", "https") or not host:
        raise click.BadParameter(f"expected an http:// or https:// URL, got {value!r}")
    if url.query or url.fragment:
        raise click.BadParameter(f"give serve's address without a query or fragment: {value!r}")
    return str(url.copy_with(path=url.path.rstrip("/"))).rstrip("/")
