"""A crontab line as classic cron reads it, in the fields APScheduler's CronTrigger takes.

APScheduler 3.x's ``CronTrigger.from_crontab`` numbers weekdays from Monday (0 = Monday),
while cron numbers them from Sunday (0 and 7 = Sunday): ``0 9 * * 1`` would fire on
Tuesdays, ``*/2`` on other days, and ``7`` is refused (upstream keeps this in 3.x). Here
the day-of-week field is read with cron's numbering and handed over as day names, which
both agree on. A line that restricts both day of month and day of week is refused: cron
runs it when *either* matches, APScheduler only when both do, and a schedule that means
two things must not be guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["CrontabError", "crontab_fields", "next_slots"]

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS = ("minute", "hour", "day", "month", "day_of_week")


class CrontabError(ValueError):
    """A cron line this runner cannot read exactly as cron would."""


def crontab_fields(line: str) -> dict[str, str]:
    """``"0 9 * * 1-5"`` -> ``{"minute": "0", ..., "day_of_week": "mon,tue,wed,thu,fri"}``."""
    if not line.isascii():  # APScheduler's int() would read other scripts' digits
        raise CrontabError("a cron line is ASCII: digits 0-9, day and month names, * , - /")
    values = line.split()
    if len(values) != len(_FIELDS):
        raise CrontabError(
            f"a cron line has 5 fields (minute hour day-of-month month day-of-week), "
            f"this one has {len(values)}"
        )
    fields = dict(zip(_FIELDS, values, strict=True))
    if fields["day"] != "*" and fields["day_of_week"] != "*":
        raise CrontabError(
            "both day of month and day of week are restricted: cron runs such a line when "
            "either matches, APScheduler only when both do; write one of them as * (or use "
            "two playbooks)"
        )
    fields["day_of_week"] = _weekdays(fields["day_of_week"])
    return fields


def _weekdays(text: str) -> str:
    if text == "*":
        return "*"
    days: set[int] = set()
    for part in text.split(","):
        body, slash, step_text = part.partition("/")
        step = _number(step_text, "step") if slash else 1
        if step < 1:
            raise CrontabError(f"day-of-week step {step_text!r} must be at least 1")
        if body == "*":
            first, last = 0, 6
        elif "-" in body:
            start, _, end = body.partition("-")
            first, last = _day(start), _day(end)
        else:
            first = _day(body)
            last = 7 if slash else first  # cron reads "1/2" as "1-7/2"
        if first > last:
            raise CrontabError(f"day-of-week range {body!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAYS[day] for day in sorted(days))


def _day(text: str) -> int:
    """0-7 (0 and 7 are Sunday) or a three-letter English name."""
    if text.lower() in _DAYS:
        return _DAYS.index(text.lower())
    number = _number(text, "day of week")
    if number > 7:
        raise CrontabError(f"day of week {text!r} is not 0-7 (0 and 7 are Sunday) or sun-sat")
    return number


def _number(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise CrontabError(f"{what} {text!r} is not a number or a day name (sun-sat)")
    return int(text)


def next_slots(trigger: Any, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fire times of an APScheduler trigger after ``after``, in UTC
    (fewer when it stops firing: ``0 0 31 2 *`` never does)."""
    found: list[datetime] = []
    moment = after.astimezone(UTC) + _TICK
    while len(found) < count:
        fire: datetime | None = trigger.get_next_fire_time(None, moment)
        if fire is None:
            break
        found.append(fire.astimezone(UTC))
        moment = found[-1] + _TICK
    return found


_TICK = timedelta(microseconds=1)
