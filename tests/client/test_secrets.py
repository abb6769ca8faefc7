"""The session token never shows up in repr, str, exception text or logs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from runner.client import WAIaaSClient, WAIaaSError
from tests.client.conftest import TOKEN, daemon_error

MakeClient = Callable[..., WAIaaSClient]
JWT_BODY = TOKEN.removeprefix("wai_sess_")


def assert_clean(text: str) -> None:
    assert TOKEN not in text
    assert JWT_BODY not in text
    for part in JWT_BODY.split("."):
        assert part not in text


async def test_token_absent_from_repr_errors_and_logs(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    failures: list[httpx.Response | Exception] = [
        daemon_error(502, "CHAIN_ERROR", True),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("refused"),
        daemon_error(401, "INVALID_TOKEN"),
    ]
    texts: list[str] = []
    async with make_client(failures) as client:
        texts += [repr(client), str(client)]
        with pytest.raises(WAIaaSError) as caught:
            await client.get_balance("ethereum-sepolia")
        texts += [str(caught.value), repr(caught.value)]
        with pytest.raises(Exception) as lost:
            await client.send_token("0x1", 1)
        texts += [str(lost.value), repr(lost.value), str(getattr(lost.value, "request", ""))]
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records, "the failures above should have been logged"
    for text in texts:
        assert_clean(text)
