"""A playbook's ``schedule:`` as APScheduler triggers, with the fixes serve needs.

- A cron time in a DST fall-back hour: APScheduler 3.11 fires it twice (once per
  occurrence of the wall time). Here a cron line whose hour field is fixed fires each wall
  time once; a line with ``*`` hours ("every N minutes") keeps both occurrences, which are
  different instants an interval apart (what classic cron does too).
- Interval slots are anchored at the epoch, so they are the same instants after every
  restart (a slot, and so its run id, does not depend on when serve started).
- Jitter is never given to APScheduler (it adds it to the previous *jittered* time and
  drifts); it is a delay inside the job, derived from the nominal slot.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from runner.playbook.crontab import crontab_fields, next_slots
from runner.playbook.schedule import Schedule

__all__ = [
    "OnceCronTrigger",
    "build_trigger",
    "describe",
    "dst_warnings",
    "fires_per_minute",
    "jitter_delay",
    "next_slots",
    "slots_between",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


class OnceCronTrigger(CronTrigger):  # type: ignore[misc]
    """A cron trigger that fires a repeated (DST fall-back) wall time once."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and self._hours_fixed() and _second_occurrence(fire):
            # in UTC: adding to a zoned time is wall-clock arithmetic and loses the fold
            fire = super().get_next_fire_time(None, fire.astimezone(UTC) + _TICK)
        return fire

    def _hours_fixed(self) -> bool:
        hour = next(field for field in self.fields if field.name == "hour")
        return str(hour) != "*"


def _second_occurrence(moment: datetime) -> bool:
    """A wall time that happens twice (DST fall-back), at its later instant."""
    first, second = moment.replace(fold=0), moment.replace(fold=1)
    if first.utcoffset() == second.utcoffset():
        return False
    return moment.astimezone(UTC) == second.astimezone(UTC)


def build_trigger(schedule: Schedule) -> BaseTrigger:
    if schedule.cron is not None:
        return OnceCronTrigger(
            **crontab_fields(schedule.cron), timezone=ZoneInfo(schedule.timezone)
        )
    assert schedule.interval is not None  # the model requires one of the two
    return IntervalTrigger(seconds=schedule.interval.total_seconds(), start_date=EPOCH)


def describe(schedule: Schedule) -> str:
    if schedule.cron is not None:
        text = f"cron {schedule.cron!r} ({schedule.timezone})"
    else:
        assert schedule.interval is not None
        text = f"every {schedule.interval.total_seconds():g}s"
    if schedule.jitter:
        text += f", jitter up to {schedule.jitter.total_seconds():g}s"
    return text


def jitter_delay(schedule: Schedule, playbook: str, slot: datetime) -> float:
    """Seconds to wait after the nominal slot: spread, yet the same for the same slot."""
    spread = schedule.jitter.total_seconds()
    if spread <= 0:
        return 0.0
    digest = hashlib.sha256(f"{playbook}\n{slot.isoformat()}".encode()).digest()
    return spread * int.from_bytes(digest[:8], "big") / 2**64


def slots_between(
    trigger: BaseTrigger, after: datetime, until: datetime, limit: int = 10_000
) -> list[datetime]:
    """Nominal slots in (after, until], oldest first, at most ``limit`` of the newest.

    A long downtime of a frequent schedule is millions of slots (a year of a 1 s interval,
    half a million of an every-minute cron: seconds to walk, gigabytes to keep). So the
    walk starts ``limit`` of the schedule's shortest gaps (among its first slots) before
    ``until``, and keeps only the newest ``limit``: at most about ``limit`` steps. Slots
    before that are not returned (the caller compares with the first slot after ``after``).
    """
    upcoming = next_slots(trigger, after, 32)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(upcoming)]
    if gaps:
        earliest = until.timestamp() - min(gaps) * (limit + 1)
        if earliest > after.timestamp():  # compared as numbers: for a yearly cron it is
            after = datetime.fromtimestamp(earliest, UTC)  # thousands of years back
    found: deque[datetime] = deque(maxlen=limit)
    moment = after.astimezone(UTC) + _TICK
    while True:
        fire = trigger.get_next_fire_time(None, moment)
        if fire is None or fire > until:
            return list(found)
        found.append(fire.astimezone(UTC))
        moment = fire.astimezone(UTC) + _TICK


def fires_per_minute(schedule: Schedule, now: datetime) -> float:
    """How often the schedule fires, on average over its next 16 slots (the same cron
    line and zone are worked out once: thousands of playbooks often share one)."""
    if schedule.interval is not None:
        return 60.0 / schedule.interval.total_seconds()
    assert schedule.cron is not None
    return _cron_rate(schedule.cron, schedule.timezone, now.replace(second=0, microsecond=0))


@lru_cache(maxsize=256)
def _cron_rate(cron: str, timezone: str, now: datetime) -> float:
    upcoming = next_slots(build_trigger(Schedule(cron=cron, timezone=timezone)), now, 16)
    if len(upcoming) < 2:
        return 0.0
    minutes = (upcoming[-1] - upcoming[0]).total_seconds() / 60
    return (len(upcoming) - 1) / minutes if minutes > 0 else 0.0


def dst_warnings(schedule: Schedule, start: datetime, days: int = 370) -> list[str]:
    """A cron time that falls in a DST gap (skipped wall times) or overlap (repeated wall
    times) of its zone within ``days`` from ``start``: what serve does then."""
    if schedule.cron is None or str(schedule.timezone) == "UTC":
        return []
    # worked out once per cron line, zone and hour: a directory often shares a few of them
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return list(_dst_warnings(schedule.cron, str(schedule.timezone), hour, days))


@lru_cache(maxsize=256)
def _dst_warnings(cron: str, timezone: str, start: datetime, days: int) -> tuple[str, ...]:
    wall = CronTrigger(**crontab_fields(cron), timezone=UTC)  # matches wall times
    hours_fixed = OnceCronTrigger(**crontab_fields(cron), timezone=UTC)._hours_fixed()
    warnings: list[str] = []
    for old, new, after in _transitions(timezone, start, days):
        wall_after = after.replace(tzinfo=None)  # the first wall time of the new offset
        if new > old:  # spring forward: the wall times just before it never happen
            if not hours_fixed:
                continue  # "every N minutes" just has fewer runs that night
            window = (wall_after - (new - old), wall_after)
            what = "does not exist that day (DST gap); it runs an hour later"
        else:  # fall back: the wall times from it on happen twice
            window = (wall_after, wall_after + (old - new))
            if not hours_fixed:
                continue  # "every N minutes" runs through both occurrences on purpose
            what = "happens twice that day (DST overlap); serve runs it once, the first time"
        naive_start = window[0].replace(tzinfo=UTC)
        hit = wall.get_next_fire_time(None, naive_start)
        if hit is not None and hit < window[1].replace(tzinfo=UTC):
            warnings.append(
                f"schedule: cron {cron!r} at {hit:%H:%M} on {hit:%Y-%m-%d} in {timezone} {what}"
            )
    return tuple(warnings)


@lru_cache(maxsize=64)
def _transitions(
    timezone: str, start: datetime, days: int
) -> tuple[tuple[timedelta, timedelta, datetime], ...]:
    """(old offset, new offset, first moment of the new one) for each UTC-offset change
    within ``days`` from ``start`` (a whole UTC hour). Day by day, then hour by hour inside
    a day whose offset changed (arithmetic in UTC: zone arithmetic is wall time)."""
    zone = ZoneInfo(timezone)
    changes: list[tuple[timedelta, timedelta, datetime]] = []
    day = start
    for _ in range(days):
        if _offset(day + timedelta(days=1), zone) != _offset(day, zone):
            changes.extend(_changes_within(day, 24, zone))
        day += timedelta(days=1)
    return tuple(changes)


def _changes_within(
    moment: datetime, hours: int, zone: tzinfo
) -> list[tuple[timedelta, timedelta, datetime]]:
    changes: list[tuple[timedelta, timedelta, datetime]] = []
    previous = _offset(moment, zone)
    for _ in range(hours):
        moment += timedelta(hours=1)
        current = moment.astimezone(zone)
        offset = current.utcoffset()
        if offset != previous and offset is not None and previous is not None:
            changes.append((previous, offset, current))
        previous = offset
    return changes


def _offset(moment: datetime, zone: tzinfo) -> timedelta | None:
    return moment.astimezone(zone).utcoffset()
