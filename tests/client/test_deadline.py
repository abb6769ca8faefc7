"""The client's timeout is a deadline for the whole call, not for each read.

A proxy that dribbles an answer one byte at a time never lets a per-read timeout fire;
the call must still end once its deadline passes (connect + write + the whole answer).
The figures are scaled down (0.3 s for the README's 2 s) so the suite never waits long;
the ratio asserted is the same as "``--request-timeout 2s`` ends within 3 s".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from runner.client import AmbiguousSendError, RetryPolicy, TransportError, WAIaaSClient
from tests.client.conftest import TOKEN

TIMEOUT = 0.3
BODY = b'{"id": "01a2139f-e353-7484-b362-349a643f3ff6", "status": "PENDING"}'


async def _dribble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if b"content-length" in line.lower()
        ),
        0,
    )
    await reader.readexactly(length)
    writer.write(b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n")
    writer.write(b"content-length: %d\r\n\r\n" % len(BODY))
    try:
        for byte in BODY:  # one byte every 50 ms: each read is quick, the whole is not
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def dribbling() -> AsyncIterator[str]:
    server = await asyncio.start_server(_dribble, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def _no_sleep(seconds: float) -> None:
    return None


def _client(url: str, **policy: Any) -> WAIaaSClient:
    retry = RetryPolicy(sleep=_no_sleep, **policy)
    return WAIaaSClient(url, TOKEN, timeout=TIMEOUT, retry_policy=retry)


async def test_a_dribbled_send_ends_at_its_deadline_as_ambiguous(dribbling: str) -> None:
    async with _client(dribbling) as client:
        started = time.monotonic()
        with pytest.raises(AmbiguousSendError) as caught:
            await client.send_token("0x7099", 1000, network="ethereum-sepolia")
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT * 1.5  # 2 s -> within 3 s
    assert "request timeout" in caught.value.message or "ReadTimeout" in caught.value.message


async def test_a_dribbled_read_ends_at_its_deadline(dribbling: str) -> None:
    async with _client(dribbling, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(TransportError, match="could not reach the daemon"):
            await client.get_transaction("01a2139f-e353-7484-b362-349a643f3ff6")
    assert time.monotonic() - started < TIMEOUT * 1.5


class _StallingTransport(httpx.AsyncBaseTransport):
    """Reports its progress like httpcore does, then stalls at ``stall_after``."""

    def __init__(self, stall_after: str) -> None:
        self.stall_after = stall_after
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        trace = request.extensions["trace"]
        for event in ("connection.connect_tcp.started", "http11.send_request_headers.started"):
            await trace(event, {})
            if event == self.stall_after:
                await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def _send_through(transport: _StallingTransport) -> None:
    async with httpx.AsyncClient(transport=transport) as http:
        retry = RetryPolicy(sleep=_no_sleep)
        client = WAIaaSClient(
            "http://d.test", TOKEN, timeout=0.05, http_client=http, retry_policy=retry
        )
        await client.send_token("0x7099", 1000, network="ethereum-sepolia")


async def test_a_send_stalled_before_writing_is_provably_not_sent() -> None:
    transport = _StallingTransport("connection.connect_tcp.started")
    with pytest.raises(TransportError, match="ConnectTimeout"):
        await _send_through(transport)
    assert transport.calls == 4  # never reached the daemon: safe to try again


async def test_a_send_stalled_after_writing_is_ambiguous() -> None:
    transport = _StallingTransport("http11.send_request_headers.started")
    with pytest.raises(AmbiguousSendError):
        await _send_through(transport)
    assert transport.calls == 1
