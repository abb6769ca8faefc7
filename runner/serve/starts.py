"""Recording runs as started, all the slots of one turn of the event loop together.

When hundreds of playbooks share a cron line, APScheduler fires all of them in one pass
and each becomes a task. Each task asks to be recorded as started and waits; the first
to ask in a turn of the loop schedules one write for the next turn, so every slot of the
burst is in the ledger (``running``, with its run id) in a single SQLite transaction,
before any of those runs does its work (launch, locks, HTTP) and before a run place out
of ``--max-concurrent-runs`` is waited for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from runner.ledger.slots import SlotLog

__all__ = ["StartRecorder"]


@dataclass(frozen=True)
class _Start:
    playbook: str
    slot: float
    run_id: str
    planned: float  # the slot's planned time (nominal plus jitter), epoch seconds
    recorded: asyncio.Future[float]


class StartRecorder:
    """``await record(...)``: the run is in the ledger as started; returns its lateness
    (seconds from its planned time to the write)."""

    def __init__(self, slot_log: SlotLog, clock: Callable[[], float] = time.time) -> None:
        self._slot_log = slot_log
        self._clock = clock
        self._pending: list[_Start] = []

    def record(
        self, playbook: str, slot: float, run_id: str, planned: float
    ) -> asyncio.Future[float]:
        loop = asyncio.get_running_loop()
        if not self._pending:
            loop.call_soon(self._write)
        start = _Start(playbook, slot, run_id, planned, loop.create_future())
        self._pending.append(start)
        return start.recorded

    def _write(self) -> None:
        pending, self._pending = self._pending, []
        now = self._clock()
        lateness = [max(0.0, now - start.planned) for start in pending]
        try:
            self._slot_log.started_many(
                (start.playbook, start.slot, start.run_id, late)
                for start, late in zip(pending, lateness, strict=True)
            )
        except Exception as error:  # each run fails on its own, recorded by serve
            for start in pending:
                if not start.recorded.done():
                    start.recorded.set_exception(error)
            return
        for start, late in zip(pending, lateness, strict=True):
            if not start.recorded.done():  # a task cancelled meanwhile (a second signal)
                start.recorded.set_result(late)
