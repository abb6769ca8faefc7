"""``schedule:`` for serve mode: a cron line or an interval, a time zone, jitter, missed runs."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from runner.lazy import lazy_module
from runner.playbook.crontab import crontab_fields
from runner.playbook.diagnostics import did_you_mean
from runner.playbook.fields import Duration, Model, exactly_one

if TYPE_CHECKING:
    import apscheduler.triggers.cron as cron_trigger  # type: ignore[import-untyped]
else:
    # Most one-shot playbooks have no schedule: they do not pay for APScheduler's import.
    cron_trigger = lazy_module("apscheduler.triggers.cron")

__all__ = ["Schedule"]


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
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(value, _time_zones())
            raise PydanticCustomError("timezone", f"unknown time zone {value!r}{hint}") from None
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                cron_trigger.CronTrigger(**crontab_fields(value), timezone="UTC")
            except ValueError as error:  # a CrontabError too
                raise PydanticCustomError("cron", f"invalid cron line {value!r}: {error}") from None
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
