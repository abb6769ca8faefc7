"""Keeping session tokens out of everything the runner writes.

A token never belongs in output, a log, a webhook or the ledger. Masking happens where
data is written (the reporters, the ledger, webhooks, error messages), so a token that
reached a value by any road — an env var rendered into a message, a ``--var``, a file —
is still never stored or shown; and a token-shaped memo is refused before a send.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MASK", "looks_like_token", "mask_secrets", "mask_values"]

# wai_sess_<JWT> as the daemon issues it, and a bare JWT (a token with its prefix cut off)
_TOKEN = re.compile(r"wai_sess_[^\s'\"\\]*|\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*", re.IGNORECASE)
MASK = "wai_sess_…"


def looks_like_token(text: str) -> bool:
    return _TOKEN.search(text) is not None


def mask_secrets(text: str) -> str:
    """Replaces anything that looks like a session token with its masked prefix."""
    return _TOKEN.sub(MASK, text)


def mask_values(value: Any) -> Any:
    """The same JSON-like value with every string (keys included) masked."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, Mapping):
        return {mask_values(key): mask_values(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [mask_values(item) for item in value]
    return value
