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
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "MASK",
    "looks_like_token",
    "mask_secrets",
    "mask_values",
    "token_columns",
    "url_secret",
]

# wai_sess_<JWT> as the daemon issues it, and a bare JWT (a token with its prefix cut off)
_TOKEN = re.compile(r"wai_sess_[^\s'\"\\]*|\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*", re.IGNORECASE)
MASK = "wai_sess_…"


def looks_like_token(text: str) -> bool:
    return _TOKEN.search(text) is not None


def token_columns(line: str) -> list[int]:
    """The 1-based columns where a token starts in one line of text (never the token)."""
    return [found.start() + 1 for found in _TOKEN.finditer(line)]


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


# what marks a part of a URL as a secret: a query parameter named like a credential, the
# services whose webhook URL *is* the credential (the path after the prefix), and any long
# random-looking path segment (a capability URL: whoever has it may post)
_SECRET_PARAMETER = re.compile(
    r"token|key|secret|sig|signature|pass|auth|credential|code|hash", re.IGNORECASE
)
_SECRET_PATHS = (
    ("hooks.slack.com", "/services/"),
    ("discord.com", "/api/webhooks/"),
    ("discordapp.com", "/api/webhooks/"),
    (".webhook.office.com", "/"),
    ("hooks.zapier.com", "/hooks/"),
    ("maker.ifttt.com", "/trigger/"),
    ("api.telegram.org", "/bot"),
)
_RANDOM_SEGMENT = re.compile(r"(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{20,}")


def url_secret(url: str, runtime: str = "\x00") -> str | None:
    """What in ``url`` looks like a credential (without quoting it), or None.

    ``runtime`` marks the parts only known at run time (a ``${{ env.X }}`` inside the URL):
    a secret that comes from there is not written in the file, so it is not one here."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        if userinfo and userinfo.strip(runtime + ":"):
            return "credentials before the host (user:password@)"
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_PARAMETER.search(name) and value.strip(runtime):
            return f"a query parameter {name}="
    host = (parts.hostname or "").lower()
    for suffix, prefix in _SECRET_PATHS:
        if (host == suffix.lstrip(".") or host.endswith(suffix)) and parts.path.startswith(prefix):
            rest = parts.path[len(prefix) :]
            if rest.strip("/" + runtime):
                return f"the path of a {suffix.lstrip('.')} webhook, which is its key"
    for segment in parts.path.split("/"):
        if runtime not in segment and _RANDOM_SEGMENT.fullmatch(segment):
            return "a token-like path segment"
    return None
