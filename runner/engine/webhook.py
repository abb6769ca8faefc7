"""Posting JSON events to a webhook, with retries; a failure is reported, never fatal to
what already happened (a webhook that is down must not hide a send)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import httpx

from runner.errors import RunnerError
from runner.lazy import lazy_module
from runner.secrets import mask_secrets

if TYPE_CHECKING:
    import tenacity
else:
    tenacity = lazy_module("tenacity")  # only a playbook that notifies a webhook needs it

__all__ = ["WebhookError", "post_event"]


class WebhookError(RunnerError):
    """A webhook could not be delivered (the message never quotes its URL)."""


_HEADERS = {"User-Agent": "waiaas-runner", "Content-Type": "application/json"}


def _transient(error: BaseException) -> bool:
    # A bad URL or a 4xx will not heal; a timeout, a dropped connection or a 5xx may.
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500 or error.response.status_code == 429
    return isinstance(
        error, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError
    )


async def post_event(
    url: str,
    event: dict[str, Any],
    *,
    attempts: int = 3,
    timeout: float = 10.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """POST ``event`` as JSON; raises :class:`WebhookError` once it cannot be delivered.
    Messages never quote the URL (a webhook URL often carries a secret)."""
    body = mask_secrets(json.dumps(event, default=str)).encode()  # no token leaves in an event
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            async for attempt in tenacity.AsyncRetrying(
                stop=tenacity.stop_after_attempt(attempts),
                wait=tenacity.wait_exponential(multiplier=0.5, max=4),
                retry=tenacity.retry_if_exception(_transient),
                sleep=sleep,
                reraise=True,
            ):
                with attempt:
                    response = await http.post(url, content=body, headers=_HEADERS)
                    response.raise_for_status()
    except httpx.HTTPStatusError as error:
        raise WebhookError(f"the webhook answered HTTP {error.response.status_code}") from None
    except httpx.HTTPError as error:
        raise WebhookError(f"the webhook could not be reached ({type(error).__name__})") from None
