"""Instants as people and machines read them: ISO 8601 in UTC, one spelling everywhere
(``/status``, the status page, audits, exports, prune reports)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import overload

__all__ = ["iso_utc"]


@overload
def iso_utc(moment: None, *, millis: bool = False) -> None: ...
@overload
def iso_utc(moment: float | datetime, *, millis: bool = False) -> str: ...
def iso_utc(moment: float | datetime | None, *, millis: bool = False) -> str | None:
    """``2026-12-06T04:37:27Z`` (``.123Z`` with ``millis``: an export keeps the order of
    sends made within one second); None stays None."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).timestamp()
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
    return f"{whole}.{int(moment * 1000) % 1000:03d}Z" if millis else f"{whole}Z"
