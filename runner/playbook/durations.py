"""Durations written as ``"30m"``, ``"1h30m"``, ``"10s"``, ``"500ms"``, ``"2d"``."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from runner.errors import RunnerError

__all__ = ["DurationError", "duration_text", "parse_duration", "seconds_of"]

# [0-9], not \d: \d also matches Arabic-Indic, full-width and other digits
_PART = re.compile(r"([0-9]+)(ms|d|h|m|s)")
_WHOLE = re.compile(r"(?:[0-9]+(?:ms|d|h|m|s))+")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
MAX_DURATION = timedelta(days=366)


class DurationError(RunnerError, ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    compact = text.strip()
    if not _WHOLE.fullmatch(compact):
        raise DurationError(
            f"invalid duration {text!r}: write a number and a unit (ms, s, m, h, d), "
            'e.g. "30s", "15m", "1h30m"'
        )
    # summed as an integer of milliseconds first: a timedelta overflows (OverflowError) long
    # before an int does, e.g. for "999999999d999999999d"
    total_ms = 0
    for number, unit in _PART.findall(compact):
        if len(number) > 9:
            raise DurationError(f"duration {text!r} is too long (at most {MAX_DURATION.days} days)")
        total_ms += int(number) * (1 if unit == "ms" else _UNIT_SECONDS[unit] * 1000)
    if total_ms > MAX_DURATION // timedelta(milliseconds=1):
        raise DurationError(f"duration {text!r} is too long (at most {MAX_DURATION.days} days)")
    return timedelta(milliseconds=total_ms)


def seconds_of(delta: timedelta) -> Decimal:
    """A timedelta as an exact Decimal number of seconds (expressions never see floats)."""
    seconds = Decimal(delta.days * 86400 + delta.seconds)
    if delta.microseconds:
        seconds += Decimal(delta.microseconds).scaleb(-6)
    return seconds


def duration_text(seconds: float) -> str:
    """Seconds as a person writes them: 86400 -> "1d", 5400 -> "90m"."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
