"""Over a real socket: the daemon reads the whole send, then the connection dies."""

from __future__ import annotations

import asyncio

import pytest

from runner.client import AmbiguousSendError, RetryPolicy, WAIaaSClient
from tests.client.conftest import TOKEN


async def _drop_after_reading(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: list[bytes]
) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    lengths = [
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    ]
    seen.append(head + await reader.readexactly(lengths[0] if lengths else 0))
    writer.transport.abort()  # request fully written, answer never comes


@pytest.fixture
async def dropping_server() -> tuple[str, list[bytes]]:  # type: ignore[misc]
    seen: list[bytes] = []
    server = await asyncio.start_server(
        lambda r, w: _drop_after_reading(r, w, seen), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", seen


async def _no_sleep(seconds: float) -> None:
    return None


async def test_send_lost_after_write_is_sent_once(dropping_server: tuple[str, list[bytes]]) -> None:
    url, seen = dropping_server
    async with WAIaaSClient(url, TOKEN, retry_policy=RetryPolicy(sleep=_no_sleep)) as client:
        with pytest.raises(AmbiguousSendError) as caught:
            await client.send_token("0x7099", 1000, network="ethereum-sepolia")
    assert len(seen) == 1
    assert b'"amount":"1000"' in seen[0].replace(b" ", b"")
    assert caught.value.request["amount"] == "1000"


async def test_get_lost_after_write_is_retried(dropping_server: tuple[str, list[bytes]]) -> None:
    url, seen = dropping_server
    async with WAIaaSClient(url, TOKEN, retry_policy=RetryPolicy(sleep=_no_sleep)) as client:
        with pytest.raises(Exception, match="could not reach the daemon"):
            await client.get_balance("ethereum-sepolia")
    assert len(seen) == 4  # 1 + 3 retries
