"""Nominal slots and the run ids derived from them.

A scheduled run is named by its playbook and its *nominal* slot: the un-jittered time the
schedule says, in UTC, to the second. Whoever fires the slot (serve, cron, a systemd timer,
a Kubernetes CronJob started twice) gets the same run id, so the ledger continues that run
instead of starting a new one, and a send key of that run is never posted twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

__all__ = ["SlotError", "parse_slot", "slot_run_id"]


class SlotError(ValueError):
    """A --scheduled-for value that is not an instant in time."""


# Slots are stored as Unix time and named by a 4-digit year: outside this, neither holds.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def parse_slot(text: str) -> datetime:
    """An ISO-8601 / RFC 3339 instant with a UTC offset or ``Z`` (what Kubernetes writes into
    ``batch.kubernetes.io/cronjob-scheduled-timestamp``, in the CronJob's time zone), as UTC
    to the second."""
    value = text.strip()
    if value[-1:] in ("z", "Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SlotError(
            f"{text!r} is not an ISO-8601 time; write e.g. 2026-11-25T03:00:00Z"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise SlotError(
            f"{text!r} has no time zone; add Z for UTC (2026-11-25T03:00:00Z) or an offset"
        )
    try:
        utc = moment.astimezone(UTC).replace(microsecond=0)
    except OverflowError:  # year 1 or 9999 moved across midnight by its offset
        utc = None
    if utc is None or not _EARLIEST <= utc < _LATEST:
        raise SlotError(f"{text!r} is not a time between 1970 and 9998")
    return utc


def slot_run_id(playbook: str, slot: datetime) -> str:
    """``20261125T030000Z-slot-1a2b3c4d``: sortable like other run ids, the same for the same
    playbook and slot, and distinct between playbooks (run ids are unique in a ledger)."""
    utc = slot.astimezone(UTC).replace(microsecond=0)
    digest = hashlib.sha256(f"{playbook}\n{utc.isoformat()}".encode()).hexdigest()[:8]
    return f"{utc:%Y%m%dT%H%M%SZ}-slot-{digest}"
