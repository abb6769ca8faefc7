"""A mangling reverse proxy for tests: it forwards every request to the daemon, and can
replace the daemon's answer to chosen requests with something else.

The point is the order: the daemon has already handled the request (a send is created)
when the proxy decides what the client hears — a gateway's JSON error, an HTML page, an
empty body, a truncated or dribbled 201, or a closed connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


def _status_line(status: int) -> bytes:
    reasons = {200: "OK", 201: "Created", 502: "Bad Gateway", 503: "Service Unavailable"}
    return f"HTTP/1.1 {status} {reasons.get(status, 'Gateway Timeout')}\r\n".encode()


def replace_with(status: int, body: bytes, content_type: str = "application/json") -> Answer:
    """Answer ``status`` with ``body`` instead of what the daemon said."""

    async def answer(upstream: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(_status_line(status))
        writer.write(f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n".encode())
        writer.write(b"connection: close\r\n\r\n" + body)
        await writer.drain()

    return answer


def json_error(status: int, body: object) -> Answer:
    return replace_with(status, json.dumps(body).encode())


def truncated(upstream: bytes) -> bytes:
    """The daemon's own answer, cut in the middle of its body."""
    head, _, body = upstream.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n" + body[: len(body) // 2]


async def cut_short(upstream: bytes, writer: asyncio.StreamWriter) -> None:
    writer.write(truncated(upstream))
    await writer.drain()


def dribbled(every: float) -> Answer:
    """The daemon's own answer, one byte every ``every`` seconds."""

    async def answer(upstream: bytes, writer: asyncio.StreamWriter) -> None:
        for byte in upstream:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every)

    return answer


async def closed(upstream: bytes, writer: asyncio.StreamWriter) -> None:
    """No answer at all: the connection is closed."""


@dataclass
class Rule:
    method: str
    path: str  # a glob
    answer: Answer
    times: int = 1
    forward: bool = True  # False: the request is lost before it reaches the daemon

    def take(self, method: str, path: str) -> bool:
        if self.times and method == self.method and fnmatch.fnmatchcase(path, self.path):
            self.times -= 1
            return True
        return False


@dataclass
class ManglingProxy:
    """``async with ManglingProxy(upstream_port) as proxy: ... proxy.url``."""

    upstream_port: int
    rules: list[Rule] = field(default_factory=list)
    mangled: list[str] = field(default_factory=list)  # "METHOD path" of each replaced answer
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> ManglingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._one_request(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        length = 0
        kept = [lines[0]]
        for line in lines[1:]:
            name = line.split(":", 1)[0].strip().lower()
            if name == "content-length":
                length = int(line.split(":", 1)[1])
            if line and name != "connection":
                kept.append(line)
        body = await reader.readexactly(length)
        # one request per connection each way keeps the forwarding trivially correct
        request = "\r\n".join([*kept, "connection: close", "", ""]).encode("latin-1") + body
        path = target.split("?", 1)[0]
        rule = next((rule for rule in self.rules if rule.take(method, path)), None)
        if rule is not None and not rule.forward:
            self.mangled.append(f"{method} {path}")
            await rule.answer(b"", writer)
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        up_writer.write(request)
        await up_writer.drain()
        upstream = await up_reader.read()  # the daemon has handled it by now
        up_writer.close()
        if rule is None:
            writer.write(upstream)
            await writer.drain()
            return
        self.mangled.append(f"{method} {path}")
        with contextlib.suppress(ConnectionError):
            await rule.answer(upstream, writer)
