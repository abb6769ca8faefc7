"""One spelling of an instant everywhere the runner shows one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from runner.timestamps import iso_utc


def test_seconds_milliseconds_datetimes_and_none() -> None:
    assert iso_utc(None) is None
    assert iso_utc(0.0) == "1970-01-01T00:00:00Z"
    assert iso_utc(1_796_000_000.25) == "2026-11-30T00:53:20Z"
    assert iso_utc(1_796_000_000.25, millis=True) == "2026-11-30T00:53:20.250Z"
    berlin_winter = timezone(timedelta(hours=1))
    moment = datetime(2026, 12, 6, 5, 0, tzinfo=berlin_winter)
    assert iso_utc(moment) == "2026-12-06T04:00:00Z"
    assert iso_utc(moment.astimezone(UTC)) == "2026-12-06T04:00:00Z"
