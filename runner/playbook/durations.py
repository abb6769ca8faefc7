"""Durations written as ``"30m"``, ``"1h30m"``, ``"10s"``, ``"500ms"``, ``"2d"``."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from runner.errors import RunnerError

__all__ = ["DurationError", "parse_duration", "seconds_of"]

_PART = re.compile(r"(\d+)(ms|d|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:ms|d|h|m|s))+")
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
    total = timedelta()
    for number, unit in _PART.findall(compact):
        if len(number) > 9:
            raise DurationError(f"duration {text!r} is too long (at most {MAX_DURATION.days} days)")
        if unit == "ms":
            total += timedelta(milliseconds=int(number))
        else:
            total += timedelta(seconds=int(number) * _UNIT_SECONDS[unit])
    if total > MAX_DURATION:
        raise DurationError(f"duration {text!r} is too long (at most {MAX_DURATION.days} days)")
    return total


def seconds_of(delta: timedelta) -> Decimal:
    """A timedelta as an exact Decimal number of seconds (expressions never see floats)."""
    seconds = Decimal(delta.days * 86400 + delta.seconds)
    if delta.microseconds:
        seconds += Decimal(delta.microseconds).scaleb(-6)
    return seconds
