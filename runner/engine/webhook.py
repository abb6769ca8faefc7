"""Posting JSON events to a webhook, with retries; a failure is reported, never fatal to
what already happened (a webhook that is down must not hide a send)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

__all__ = ["WebhookError", "post_event"]

log = logging.getLogger("runner.engine")


class WebhookError(Exception):
    pass


async def post_event(
    url: str, event: dict[str, Any], *, attempts: int = 3, timeout: float = 10.0
) -> None:
    """POST ``event`` as JSON; raises :class:`WebhookError` once every attempt failed."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(attempts),
                wait=wait_exponential(multiplier=0.5, max=4),
                retry=retry_if_exception_type((httpx.TransportError, httpx.HTTPStatusError)),
                reraise=True,
            ):
                with attempt:
                    response = await http.post(
                        url, json=event, headers={"User-Agent": "waiaas-runner"}
                    )
                    response.raise_for_status()
    except httpx.HTTPStatusError as error:
        raise WebhookError(f"the webhook answered HTTP {error.response.status_code}") from None
    except httpx.HTTPError as error:
        raise WebhookError(f"the webhook could not be reached ({type(error).__name__})") from None
