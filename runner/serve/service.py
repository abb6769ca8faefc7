"""`Serve`: playbooks on APScheduler, one process, every slot accounted for.

A fire arrives from :class:`SlotExecutor` with its nominal times. Each slot is then
started, queued behind the playbook's running run, or recorded as skipped with a reason;
nothing is dropped silently. Runs are serve's own asyncio tasks (never APScheduler's), so
a stop can wait for them: :meth:`Serve.drain` stops firing, refuses new sends, and waits
for the runs in flight to reach a recorded state.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from runner.ledger import Ledger, LedgerError
from runner.ledger.connection import failure
from runner.ledger.slots import SlotLog
from runner.serve.audit import ServeAuditOptions
from runner.serve.budget import CURRENT_RUN, DRAIN_MESSAGE, Budget, DaemonLimits, RunMeter
from runner.serve.catalog import Entry
from runner.serve.engine_adapter import LaunchOptions, RunOutcome, run_for_slot
from runner.serve.executor import SlotExecutor
from runner.serve.metrics import Metrics
from runner.serve.sessions import Session
from runner.serve.slots import slot_run_id
from runner.serve.starts import StartRecorder
from runner.serve.triggers import build_trigger, jitter_delay

__all__ = ["PlaybookState", "ServeCore", "ServeOptions"]

log = logging.getLogger("runner.serve")


@dataclass
class ServeOptions:
    paths: list[Path]
    state: Path
    launch: LaunchOptions = field(default_factory=LaunchOptions)
    drain_timeout: float = 120.0
    max_concurrent_runs: int = 16
    limits: DaemonLimits = field(default_factory=DaemonLimits)
    watch_interval: float | None = None  # seconds between checks of the files (--watch)
    retain: float | None = None  # seconds of history kept (--retain); None: no retention
    watchdog_interval: float = 1.0
    clock_jump_threshold: float = 2.0
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    audit: ServeAuditOptions = field(default_factory=ServeAuditOptions)


@dataclass(frozen=True)
class Lateness:
    """Seconds from a slot's planned time (nominal plus jitter) to the run's start, and to
    its first request (None: it sent none)."""

    start: float
    first_request: float | None

    def fields(self) -> dict[str, float]:
        fields = {"lateness": round(self.start, 3)}
        if self.first_request is not None:
            fields["first_request_lateness"] = round(self.first_request, 3)
        return fields


@dataclass
class PlaybookState:
    entry: Entry
    session: Session
    task: asyncio.Task[None] | None = None
    running_slot: datetime | None = None
    queued: datetime | None = None
    backlog: list[datetime] = field(default_factory=list)  # start-up slots, in order
    removed: bool = False
    last: dict[str, object] = field(default_factory=dict)
    requests_per_run: float | None = None
    fires_per_minute: float | None = None


class ServeCore:
    """Firing, running, recording. The lifecycle (start, reload, stop) is in ``Serve``."""

    def __init__(self, options: ServeOptions) -> None:
        # every run writes to serve's ledger (the slots and the runs must be in one file)
        options.launch = dataclasses.replace(options.launch, state=options.state)
        self.options = options
        self.metrics = Metrics()
        self.budget = Budget(options.limits)
        self.states: dict[str, PlaybookState] = {}
        self.sessions: dict[tuple[str, str], Session] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = False
        self.stop_event = asyncio.Event()
        self.admission = asyncio.Semaphore(options.max_concurrent_runs)
        self.ledger = Ledger(options.state, clock=options.clock)
        # one connection for every run: opening SQLite per run cost more than the run
        options.launch = dataclasses.replace(options.launch, ledger=self.ledger)
        self.slot_log = SlotLog(options.state, clock=options.clock)
        try:  # every slot is written down: a ledger that cannot be written is refused now
            self.slot_log.writable()
        except sqlite3.Error as error:
            self.slot_log.close()
            self.ledger.close()
            raise failure(error, options.state, "taking its write lock at start") from None
        self.starts = StartRecorder(self.slot_log, clock=options.clock)
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            executors={"default": SlotExecutor()},
            job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        )
        self.scheduler.add_listener(
            self._scheduler_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )

    # -- scheduling ------------------------------------------------------------------------

    def schedule(self, state: PlaybookState) -> None:
        entry = state.entry
        self.scheduler.add_job(
            self.fire,
            build_trigger(entry.schedule),
            args=(entry.name,),
            id=entry.name,
            name=entry.name,
            replace_existing=True,
        )
        self._note_next_fire(entry.name)

    def next_fire(self, name: str) -> datetime | None:
        job = self.scheduler.get_job(name)
        moment: datetime | None = getattr(job, "next_run_time", None)
        return moment

    def _note_next_fire(self, name: str) -> None:
        moment = self.next_fire(name)
        if moment is not None:
            self.metrics.next_run.labels(name).set(moment.timestamp())

    def _scheduler_event(self, event: JobExecutionEvent) -> None:
        # never expected with SlotExecutor; if APScheduler reports one, it is not lost
        if event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("APScheduler skipped a run of %s: max instances reached", event.job_id)
        elif event.code == EVENT_JOB_MISSED:
            log.warning(
                "APScheduler missed a run of %s at %s", event.job_id, event.scheduled_run_time
            )
        else:
            log.error("APScheduler job %s failed: %r", event.job_id, event.exception)

    # -- a fire ----------------------------------------------------------------------------

    def fire(self, name: str, run_times: list[datetime] | None = None) -> None:
        """Called by the executor with every due nominal time of one playbook (a default
        for ``run_times``, because APScheduler checks the arguments when a job is added)."""
        run_times = run_times or []
        self._note_next_fire(name)
        state = self.states.get(name)
        if state is None or state.removed or self.stopping:
            return
        now = self.options.clock()
        schedule = state.entry.schedule
        fresh = [
            slot.astimezone(UTC)
            for slot in run_times
            if self.slot_log.get(name, slot.timestamp()) is None  # a clock set back
        ]
        grace = schedule.grace.total_seconds()
        late = [s for s in fresh if now - self._planned(state, s) > grace]
        on_time = [s for s in fresh if s not in late]
        if late and schedule.missed == "run_once" and not on_time:
            on_time, late = [late[-1]], late[:-1]
        if late:
            worst = now - self._planned(state, late[0])
            self.skip(
                state,
                late,
                "missed",
                f"could not start within the grace period ({grace:g}s): the scheduler woke "
                f"{worst:.1f}s after the slot (suspend, clock jump or a blocked loop?)",
            )
        for slot in on_time:
            self.admit(state, slot)

    def _planned(self, state: PlaybookState, slot: datetime) -> float:
        return slot.timestamp() + jitter_delay(state.entry.schedule, state.entry.name, slot)

    def admit(self, state: PlaybookState, slot: datetime) -> None:
        if state.task is not None:
            running = f"{state.running_slot:%Y-%m-%dT%H:%M:%SZ}" if state.running_slot else "?"
            if state.entry.schedule.overlap == "queue" and state.queued is None:
                state.queued = slot
                log.info(
                    "slot queued behind the run still going",
                    extra={"fields": self._fire_fields(state, slot, "queued")},
                )
                return
            self.skip(state, [slot], "overlap", f"the run of slot {running} was still going")
            return
        self.start_task(state, slot)

    def start_task(self, state: PlaybookState, slot: datetime) -> None:
        state.running_slot = slot
        task = asyncio.create_task(self._run(state, slot), name=f"run {state.entry.name}")
        state.task = task
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def skip(self, state: PlaybookState, slots: list[datetime], reason: str, detail: str) -> None:
        name = state.entry.name
        self.slot_log.skipped(name, [s.timestamp() for s in slots], f"{reason}: {detail}")
        self.metrics.slots_skipped.labels(name, reason).inc(len(slots))
        for slot in slots[-3:]:  # a long downtime is summed up, not listed
            fields = self._fire_fields(state, slot, "skipped") | {"reason": reason}
            log.warning("slot skipped: %s", detail, extra={"fields": fields})
        if len(slots) > 3:
            log.warning(
                "%d more slots of %s skipped (%s); all are in the ledger",
                len(slots) - 3,
                name,
                reason,
                extra={"fields": {"playbook": name, "outcome": "skipped", "reason": reason}},
            )

    def _fire_fields(self, state: PlaybookState, slot: datetime, outcome: str) -> dict[str, object]:
        return {
            "playbook": state.entry.name,
            "run_id": slot_run_id(state.entry.name, slot),
            "slot": f"{slot:%Y-%m-%dT%H:%M:%SZ}",
            "outcome": outcome,
        }

    # -- a run -----------------------------------------------------------------------------

    async def _run(self, state: PlaybookState, slot: datetime) -> None:
        try:
            await self._run_slot(state, slot)
        except LedgerError as error:
            # the ledger cannot be written (disk full, made read-only): said as the ledger
            # says it, no traceback; the run's own ledger refuses sends, and a slot left
            # 'running' is continued by the next start (never posted twice)
            log.error(
                "%s: %s",
                state.entry.name,
                error,
                extra={"fields": self._fire_fields(state, slot, "failed")},
            )
        except Exception:  # a bug of ours must not end serve, nor hide the slot
            log.exception("serve failed running %s", state.entry.name)
            try:
                self.slot_log.finished(
                    state.entry.name, slot.timestamp(), "failed", "internal error"
                )
            except LedgerError as error:
                log.error("%s: %s", state.entry.name, error)
        finally:
            state.task, state.running_slot = None, None
            try:
                self._after_run(state)
            except LedgerError as error:
                log.error("%s: %s", state.entry.name, error)

    def _after_run(self, state: PlaybookState) -> None:
        """What follows a run: the slot queued behind it, the next start-up slot, or, for
        a removed playbook, recording what will now never run and forgetting it."""
        queued, state.queued = state.queued, None
        if state.removed:
            left = [*state.backlog, *([queued] if queued is not None else [])]
            state.backlog.clear()
            if left:
                detail = "the playbook was removed before the slot could start"
                self.skip(state, left, "removed", detail)
            self.forget(state.entry.name)
            return
        if state.backlog and not self.stopping:
            if queued is not None:
                state.backlog.append(queued)
            queued = state.backlog.pop(0)
        if queued is None:
            return
        if self.stopping:
            self.skip(state, [queued], "shutdown", "serve stopped before it could start")
        else:
            self.start_task(state, queued)

    async def _run_slot(self, state: PlaybookState, slot: datetime) -> None:
        entry, options = state.entry, self.options
        planned = self._planned(state, slot)
        if await self._wait_or_stop(planned - options.clock()):
            self.skip(state, [slot], "shutdown", "serve stopped before the slot's jitter delay")
            return
        # Admitted: in the ledger as started (run id and all, with the other slots of this
        # turn of the loop in one transaction) before any work and before the wait for a
        # run place; a restart from here on continues this slot's run.
        run_id = slot_run_id(entry.name, slot)
        admitted_late = await self.starts.record(entry.name, slot.timestamp(), run_id, planned)
        async with self.admission:
            if self.stopping:
                self._not_started(state, slot, "serve stopped before the run got a run place")
                return
            started = options.clock()
            meter = RunMeter(clock=options.clock)
            token = CURRENT_RUN.set(meter)
            session = state.session  # a reload may replace it: this run keeps it open
            try:
                with session.in_use():
                    outcome = await run_for_slot(
                        entry.playbook,
                        entry.path,
                        options.launch,
                        run_id=run_id,
                        slot=slot,
                        connection=session.connection,
                        http_client=session.http,
                        connect_info=session.connect_info,
                    )
            finally:
                CURRENT_RUN.reset(token)
            self._measure(state, meter.requests)
        # Two figures: start lateness (planned time to the run admitted and recorded as
        # started) and the time to its first request (the wait for a run place and for the
        # budget, and a loop busy with the other runs of the same second, come on top).
        # A run is delayed if either is late.
        first_request = None
        if meter.first_sent_at is not None:
            first_request = max(0.0, meter.first_sent_at - planned)
            self.metrics.first_request_lateness.observe(first_request)
        self.metrics.start_lateness.observe(admitted_late)
        if max(admitted_late, first_request or 0.0) > entry.schedule.grace.total_seconds():
            self.metrics.runs_delayed.labels(entry.name).inc()
        lateness = Lateness(admitted_late, first_request)
        self._record(state, slot, outcome, lateness, options.clock() - started)

    def _not_started(self, state: PlaybookState, slot: datetime, detail: str) -> None:
        """A slot recorded as started whose run never began (nothing was done for it):
        skipped, like a slot that was never admitted."""
        name = state.entry.name
        self.slot_log.finished(name, slot.timestamp(), "skipped", f"shutdown: {detail}")
        self.metrics.slots_skipped.labels(name, "shutdown").inc()
        fields = self._fire_fields(state, slot, "skipped") | {"reason": "shutdown"}
        log.warning("slot skipped: %s", detail, extra={"fields": fields})

    async def _wait_or_stop(self, seconds: float) -> bool:
        """Wait ``seconds`` (a jitter delay); True when serve began stopping meanwhile."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), seconds)
        return self.stopping

    def _measure(self, state: PlaybookState, requests: int) -> None:
        previous = state.requests_per_run
        state.requests_per_run = (
            float(requests) if previous is None else 0.8 * previous + 0.2 * requests
        )

    def _record(
        self,
        state: PlaybookState,
        slot: datetime,
        outcome: RunOutcome,
        lateness: Lateness,
        took: float,
    ) -> None:
        name = state.entry.name
        recorded = outcome.outcome
        if outcome.outcome == "failed" and DRAIN_MESSAGE in (outcome.reason or ""):
            recorded = "drained"  # a send refused by the drain: the next start continues
        self.slot_log.finished(name, slot.timestamp(), recorded, outcome.reason, lateness.start)
        self.metrics.runs.labels(name, outcome.outcome).inc()
        self.metrics.run_duration.labels(name).observe(took)
        for what, count in outcome.sends.items():
            self.metrics.sends.labels(name, what).inc(count)
        now = self.options.clock()
        if outcome.outcome == "ok":
            self.metrics.last_success.labels(name).set(now)
        state.last = {
            "run_id": outcome.run_id,
            "slot": f"{slot:%Y-%m-%dT%H:%M:%SZ}",
            "outcome": recorded,
            "reason": outcome.reason,
            "finished_at": now,
            **lateness.fields(),
        }
        fields = self._fire_fields(state, slot, recorded) | {
            **lateness.fields(),
            "duration": round(took, 3),
            **({"sends": outcome.sends} if outcome.sends else {}),
            **({"reason": outcome.reason} if outcome.reason else {}),
        }
        level = logging.INFO if recorded == "ok" else logging.WARNING
        if recorded == "unknown":
            level = logging.ERROR
        log.log(level, "fire", extra={"fields": fields})

    def forget(self, name: str) -> None:
        self.states.pop(name, None)
        self.metrics.forget(name)
