"""``schedule:`` for serve mode: a cron line or an interval, a time zone, jitter, missed runs."""

from __future__ import annotations

import itertools
import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from runner.lazy import lazy_module
from runner.playbook.crontab import crontab_fields, next_slots
from runner.playbook.diagnostics import did_you_mean
from runner.playbook.fields import Duration, Model, exactly_one

if TYPE_CHECKING:
    import apscheduler.triggers.cron as cron_trigger  # type: ignore[import-untyped]
else:
    # Most one-shot playbooks have no schedule: they do not pay for APScheduler's import.
    cron_trigger = lazy_module("apscheduler.triggers.cron")

__all__ = ["Schedule"]


# files in the zone database that are the host's configuration or a placeholder
_HOST_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class Schedule(Model):
    """Exactly one of ``cron`` (5 fields, minute first) and ``interval``."""

    cron: str | None = Field(None, description='5-field cron line, e.g. "*/15 * * * *"')
    interval: Duration | None = Field(None, description='e.g. "15m"')
    timezone: str = Field("UTC", description="IANA time zone for cron, e.g. Europe/Berlin")
    jitter: Duration = Field(timedelta(0), description="random delay added to each run")
    missed: Literal["skip", "run_once"] = Field(
        "skip", description="after downtime: skip missed runs, or run once to catch up"
    )
    grace: Duration = Field(
        timedelta(seconds=60),
        description="a slot that cannot start within this long after its time is missed",
    )
    catchup_window: Duration = Field(
        timedelta(hours=24),
        description="missed: run_once catches up a slot at most this old; older ones are "
        "recorded as skipped",
    )
    overlap: Literal["skip", "queue"] = Field(
        "skip",
        description="a slot that comes while the previous run still goes: skip it "
        "(recorded), or queue one run to start after it",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value in _HOST_ZONES:
            raise PydanticCustomError(
                "timezone",
                f"time zone {value!r} is a placeholder or the host's setting, not a place's "
                "zone: the same playbook could fire at other instants on another machine; "
                "name the zone (e.g. Europe/Berlin, UTC)",
            )
        try:
            zoneinfo.ZoneInfo(value)
            known = _time_zones()
            if known and value not in known:  # e.g. right/UTC: a file, not an IANA name
                raise ValueError(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(value, _time_zones() - _HOST_ZONES)
            raise PydanticCustomError("timezone", f"unknown time zone {value!r}{hint}") from None
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                trigger = cron_trigger.CronTrigger(**crontab_fields(value), timezone="UTC")
            except ValueError as error:  # a CrontabError too
                raise PydanticCustomError("cron", f"invalid cron line {value!r}: {error}") from None
            if not next_slots(trigger, datetime.now(UTC), 1):  # serve would wait forever
                raise PydanticCustomError(
                    "cron",
                    f"cron line {value!r} never fires: no month has that day (like 30 or 31 "
                    "February, or the 31st of a 30-day month)",
                )
        return value

    @field_validator("grace")
    @classmethod
    def _some_grace(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise PydanticCustomError(
                "grace",
                "grace must be at least 1s: a run always starts a little after its slot, so "
                "with less every slot would be recorded as missed and nothing would run",
            )
        return value

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(seconds=1):
            raise PydanticCustomError("interval", "interval must be at least 1s")
        return value

    @model_validator(mode="after")
    def _one_trigger(self) -> Self:
        exactly_one(self, "cron", "interval", kind="schedule", subject="schedule")
        return self

    @model_validator(mode="after")
    def _jitter_inside_the_gap(self) -> Self:
        """Jitter as long as the gap between two slots keeps each run waiting into the
        next slot, which is then skipped as an overlap: refused, not left to happen."""
        if not self.jitter:
            return self
        if self.interval is not None:
            gap, what = self.interval, "the interval"
        else:
            assert self.cron is not None
            trigger = cron_trigger.CronTrigger(**crontab_fields(self.cron), timezone="UTC")
            gaps = [
                b - a for a, b in itertools.pairwise(next_slots(trigger, datetime.now(UTC), 32))
            ]
            if not gaps:
                return self
            gap, what = min(gaps), "the shortest gap between the cron line's slots"
        if self.jitter >= gap:
            raise PydanticCustomError(
                "jitter",
                f"jitter ({_seconds(self.jitter)}) must be shorter than {what} "
                f"({_seconds(gap)}): a run would still be waiting when the next slot comes, "
                "and that slot would be skipped as an overlap",
            )
        return self


def _seconds(value: timedelta) -> str:
    return f"{value.total_seconds():g}s"
