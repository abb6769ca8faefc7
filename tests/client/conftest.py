"""Helpers for client unit tests: a MockTransport-backed client that never really sleeps."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from runner.client import RetryPolicy, WAIaaSClient

BASE = "http://daemon.test"
WALLET = "01a2139f-b3b6-7cd7-9ed3-a5759189c52d"
TX = "01a2139f-e353-7484-b362-349a643f3ff6"


def make_token(
    sub: str = "01a2139f-b49f-7123-93fa-a1c52dc7928d", iat: int = 1_000, exp: int | None = 1_300
) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims: dict[str, Any] = {"sub": sub, "iat": iat}
    if exp is not None:
        claims["exp"] = exp
    return "wai_sess_" + ".".join([part({"alg": "HS256"}), part(claims), "c2lnbmF0dXJl"])


TOKEN = make_token()


def daemon_error(status: int, code: str, retryable: bool = False, **extra: Any) -> httpx.Response:
    body = {
        "code": code,
        "message": f"{code} happened",
        "requestId": "req-1",
        "retryable": retryable,
    }
    headers = extra.pop("headers", {})
    body.update(extra)
    return httpx.Response(status, json=body, headers=headers)


class Recorder:
    """Collects the requests a client made and the waits it asked for."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_client(recorder: Recorder) -> Callable[..., WAIaaSClient]:
    def build(
        handler: Handler | list[httpx.Response | Exception], *, token: str = TOKEN, **policy: Any
    ) -> WAIaaSClient:
        if isinstance(handler, list):
            script = list(handler)

            def scripted(request: httpx.Request) -> httpx.Response:
                item = script.pop(0)
                if isinstance(item, Exception):
                    raise item
                return item

            handler = scripted
        chosen: Handler = handler

        def record(request: httpx.Request) -> httpx.Response:
            recorder.requests.append(request)
            return chosen(request)

        http = httpx.AsyncClient(transport=httpx.MockTransport(record))
        return WAIaaSClient(
            BASE, token, http_client=http, retry_policy=RetryPolicy(sleep=recorder.sleep, **policy)
        )

    return build
