"""What a starting serve owes each playbook, decided from the ledger (not from memory).

- A slot whose run was interrupted (killed mid-run, or stopped by a drain before its
  send) is continued: same run id, so the ledger's resume rules settle its sends.
- Slots that passed while serve was not running are *missed*: with ``missed: skip`` each
  is recorded as skipped; with ``missed: run_once`` the newest one inside
  ``catchup_window`` runs once and the others are recorded as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]

from runner.ledger.slots import SlotRecord
from runner.playbook.schedule import Schedule
from runner.serve.triggers import slots_between

__all__ = ["CONTINUED", "MISSED_LIMIT", "Recovery", "plan_recovery"]

# slot outcomes whose run the next start continues
CONTINUED = frozenset({"running", "drained"})
MISSED_LIMIT = 5_000  # slots recorded one by one after a long downtime (newest kept)


@dataclass
class Recovery:
    resume: list[datetime] = field(default_factory=list)  # interrupted slots to continue
    due: list[datetime] = field(default_factory=list)  # passed, but still within the grace
    catch_up: datetime | None = None  # run_once: the newest missed slot
    skipped: list[datetime] = field(default_factory=list)  # recorded as missed
    older: bool = False  # missed slots not recorded one by one (before the window, or too many)


def plan_recovery(
    schedule: Schedule,
    trigger: BaseTrigger,
    latest: SlotRecord | None,
    last_scheduled_run: float | None,
    now: datetime,
) -> Recovery:
    """``latest``: the newest slot serve recorded; ``last_scheduled_run``: the newest slot
    any run recorded (``run --scheduled-for`` included). Neither: a new playbook."""
    recovery = Recovery()
    window_start = now - schedule.catchup_window
    known = [t for t in (latest.slot if latest else None, last_scheduled_run) if t is not None]
    if not known:
        return recovery
    if latest is not None and latest.outcome in CONTINUED:
        slot = datetime.fromtimestamp(latest.slot, UTC)
        if slot >= window_start:
            recovery.resume.append(slot)
    after = datetime.fromtimestamp(max(known), UTC)
    if after < window_start:  # slots before the window are not recorded one by one
        first = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        recovery.older = first is not None and first < window_start
        after = window_start - timedelta(microseconds=1)
    # a slot exactly now is APScheduler's to fire
    missed = slots_between(trigger, after, now - timedelta(milliseconds=1), MISSED_LIMIT)
    if missed:  # more than the limit: the oldest are summed up, not recorded one by one
        first = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        recovery.older = recovery.older or (first is not None and first < missed[0])
    grace_start = now - schedule.grace
    recovery.due = [slot for slot in missed if slot >= grace_start]
    missed = missed[: len(missed) - len(recovery.due)]
    recent = missed
    if schedule.missed == "run_once" and recent and not recovery.due:
        recovery.catch_up = recent[-1]
        recent = recent[:-1]
    recovery.skipped = recent
    return recovery
