"""Whole-number options written the way the rest of the command line reads numbers.

click's integers go through Python's ``int()``, which also takes other scripts' digits
(Arabic-Indic, full-width) and underscores ("1_000"); durations, ports and --daemon-limits already
refuse those, so an option like --batch or --max-list-reads must too: a number a person
cannot read at a glance is a typo, not a setting.
"""

from __future__ import annotations

import re
from typing import Any

import click

__all__ = ["WholeNumber"]

_WRITTEN = re.compile(r"[+-]?[0-9]+")


class WholeNumber(click.IntRange):
    """:class:`click.IntRange` that takes only ASCII digits (an optional sign)."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not _WRITTEN.fullmatch(value.strip()):
            self.fail(f"{value!r} is not a whole number written in the digits 0-9", param, ctx)
        return super().convert(value, param, ctx)
