"""`Serve`: start, watchdog, and the graceful stop (reload is in ``reloading.py``).

Signals: SIGTERM or SIGINT drains (stop firing, refuse new sends, wait for the runs in
flight up to the drain timeout, exit 0); a second one exits at once (exit 1), leaving
whatever was in flight to the next start. SIGHUP re-reads the playbooks.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime

from runner.lazy import import_all
from runner.serve.audit import ServeAudit
from runner.serve.catalog import Catalog, Entry, fingerprint_of, load_catalog
from runner.serve.engine_adapter import UsageError
from runner.serve.recovery import MISSED_LIMIT, plan_recovery
from runner.serve.reloading import Reloading
from runner.serve.retention import keep_pruning, pruned_slots
from runner.serve.service import PlaybookState, ServeOptions
from runner.serve.sessions import Session
from runner.serve.triggers import build_trigger, dst_warnings, fires_per_minute

__all__ = ["Serve", "ServeOptions", "StartupError"]

log = logging.getLogger("runner.serve")

_OVERLOAD_REPEAT_SECONDS = 600.0  # while overloaded, the line is repeated this often


class StartupError(Exception):
    """Serve cannot start as asked (no playbook with a schedule, a bad token): exit 2."""


class Serve(Reloading):
    def __init__(self, options: ServeOptions) -> None:
        super().__init__(options)
        self.exit_code = 0
        self.started_at = options.clock()
        self._background: list[asyncio.Task[None]] = []
        self._signals = 0
        self._overloaded = False
        self._overload_said_at = float("-inf")
        self.audit = ServeAudit(self, options.audit, clock=options.clock, sleep=options.sleep)

    # -- start -----------------------------------------------------------------------------

    async def start(self) -> None:
        import_all()  # a long-lived process imports its lazy dependencies up front
        catalog = load_catalog(self.options.paths)
        self._report(catalog)
        if not catalog.entries:
            raise StartupError("no playbook with a schedule: found nothing to serve")
        for entry in catalog.entries.values():
            self._add(entry)
        if not self.states:
            raise StartupError("no scheduled playbook could be started (see the errors above)")
        self.scheduler.start()
        for state in list(self.states.values()):
            self._schedule_with_recovery(state)
        self._background.append(asyncio.create_task(self._watchdog(), name="serve watchdog"))
        if (audits := self.audit.start()) is not None:
            self._background.append(audits)
        if self.options.retain:
            pruning = keep_pruning(
                self.options.state,
                self.options.retain,
                clock=self.options.clock,
                sleep=self.options.sleep,
            )
            self._background.append(asyncio.create_task(pruning, name="serve retention"))
        if self.options.watch_interval:
            seen = fingerprint_of(self.options.paths)  # before anything can change
            self._background.append(asyncio.create_task(self._watch(seen), name="serve watch"))
        self._report_demand()
        log.info(
            "serving %d playbook(s) from %s",
            len(self.states),
            ", ".join(str(p) for p in self.options.paths),
        )

    def _report(self, catalog: Catalog) -> None:
        self.invalid = {str(path): text for path, text in catalog.invalid.items()}
        for text in catalog.invalid.values():
            log.error("invalid playbook, not scheduled:\n%s", text)
        for path in catalog.unscheduled:
            log.warning("%s has no schedule: and is ignored by serve", path)

    def _add(self, entry: Entry) -> PlaybookState | None:
        try:
            session = self._session_for(entry)
        except UsageError as error:
            log.error("%s: %s; not scheduled", entry.path, error)
            self.invalid[str(entry.path)] = f"{entry.path}: {error}"
            return None
        for warning in dst_warnings(entry.schedule, datetime.now(UTC)):
            log.warning("%s: %s", entry.path, warning)
        state = PlaybookState(entry, session)
        self.states[entry.name] = state
        self.metrics.playbooks.set(len(self.states))
        return state

    def _session_for(self, entry: Entry) -> Session:
        connection = self._connection_for(entry)
        for session in self.sessions.values():  # by the token it holds now (renewed or not)
            if (session.url, session.token) == (connection.url, connection.token):
                return session
        key = (connection.url, connection.token)
        if key not in self.sessions:
            session = Session(
                connection.url,
                connection.token,
                connection.token_file,
                self.budget,
                request_timeout=self.options.launch.request_timeout,
                clock=self.options.clock,
                sleep=self.options.sleep,
                on_renewal=lambda outcome: self.metrics.session_renewals.labels(outcome).inc(),
            )
            session.start()
            self.sessions[key] = session
        return self.sessions[key]

    def _schedule_with_recovery(self, state: PlaybookState) -> None:
        entry = state.entry
        self.schedule(state)
        now = datetime.fromtimestamp(self.options.clock(), UTC)
        last_run = self.ledger.last_run(entry.name)
        recovery = plan_recovery(
            entry.schedule,
            build_trigger(entry.schedule),
            self.slot_log.latest(entry.name),
            last_run.scheduled_for if last_run is not None else None,
            now,
        )
        if recovery.skipped:
            self.skip(state, recovery.skipped, "missed", "serve was not running at that time")
        if pruned := pruned_slots(recovery, self.ledger.horizon()):
            self.skip(state, pruned, "pruned", "older than the ledger's prune horizon")
        if recovery.older:
            log.warning(
                "%s: more slots passed while serve was not running than are recorded one by "
                "one (those older than catchup_window %s, or beyond the newest %d)",
                entry.name,
                entry.schedule.catchup_window,
                MISSED_LIMIT,
            )
        pending = (
            recovery.resume + recovery.due + ([recovery.catch_up] if recovery.catch_up else [])
        )
        for slot in pending:
            if slot in recovery.resume:
                log.info(
                    "continuing the interrupted run of this slot",
                    extra={"fields": self._fire_fields(state, slot, "continued")},
                )
            elif slot == recovery.catch_up:
                log.info(
                    "catching up the newest missed slot (missed: run_once)",
                    extra={"fields": self._fire_fields(state, slot, "catch_up")},
                )
        if pending:  # one after another, never skipped as overlap of each other
            state.backlog.extend(pending[1:])
            self.admit(state, pending[0])

    # -- demand and budget -----------------------------------------------------------------

    def _report_demand(self) -> None:
        demand = sum(self._demand_of(state) for state in self.states.values())
        budget = self.budget.per_minute(len(self.sessions))
        self.metrics.demand.set(demand)
        self.metrics.budget.set(budget)
        overloaded = demand > budget
        self.metrics.overloaded.set(int(overloaded))
        now = self.options.monotonic()
        repeat = overloaded and now - self._overload_said_at >= _OVERLOAD_REPEAT_SECONDS
        if overloaded != self._overloaded or repeat:
            self._overload_said_at = now
            fields = {"demand_per_minute": round(demand, 1), "budget_per_minute": round(budget, 1)}
            if overloaded:
                log.warning(
                    "overloaded: the schedules ask for %.0f requests a minute and the daemon "
                    "allows %.0f; runs start late (none is dropped)",
                    demand,
                    budget,
                    extra={"fields": fields},
                )
            else:
                log.info("request demand is back under the budget", extra={"fields": fields})
        self._overloaded = overloaded

    def _demand_of(self, state: PlaybookState) -> float:
        per_run = state.requests_per_run
        if per_run is None:
            # a guess until measured: a request a step (the wallet list is cached)
            per_run = float(max(1, len(state.entry.playbook.steps)))
        if state.fires_per_minute is None:  # once per schedule: it walks 60 cron slots
            state.fires_per_minute = fires_per_minute(state.entry.schedule, datetime.now(UTC))
        return per_run * state.fires_per_minute

    # -- watchdog --------------------------------------------------------------------------

    async def _watchdog(self) -> None:
        options = self.options
        wall, mono = options.clock(), options.monotonic()
        while not self.stopping:
            await options.sleep(options.watchdog_interval)
            self.check_clock(wall, mono)
            wall, mono = options.clock(), options.monotonic()
            self.metrics.heartbeat.set(wall)
            self.sync_metrics()
            if self._every(30):
                self._report_demand()

    _counted_requests = 0
    _counted_429 = 0
    _ticks = 0

    def sync_metrics(self) -> None:
        """Bring the request counters up to the transport's (every second, and on a scrape)."""
        counters = self.budget.counters
        self.metrics.requests.inc(counters.requests - self._counted_requests)
        self._counted_requests = counters.requests
        self.metrics.rate_limited.inc(counters.rate_limited - self._counted_429)
        self._counted_429 = counters.rate_limited

    def _every(self, ticks: int) -> bool:
        self._ticks += 1
        return self._ticks % ticks == 0

    def check_clock(self, wall_before: float, mono_before: float) -> float:
        """Compare how far the wall clock and the monotonic clock moved; a difference
        means a suspend (the monotonic clock stops), an NTP step or a manual change."""
        jump = (self.options.clock() - wall_before) - (self.options.monotonic() - mono_before)
        if abs(jump) >= self.options.clock_jump_threshold:
            self.metrics.clock_jumps.inc()
            log.warning(
                "the wall clock jumped %+.1fs (suspend, NTP step or a manual change); "
                "re-checking every schedule",
                jump,
                extra={"fields": {"event": "clock_jump", "jump_seconds": round(jump, 3)}},
            )
            # APScheduler sleeps on the monotonic clock: after a suspend it would oversleep
            self.scheduler.wakeup()
        return jump

    # -- stop ------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, self._on_stop_signal, number)
        loop.add_signal_handler(signal.SIGHUP, self.reload)

    def _on_stop_signal(self, number: int) -> None:
        self._signals += 1
        name = signal.Signals(number).name
        if self._signals == 1:
            log.info("%s: stopping; runs in flight finish (new sends are refused)", name)
            self.stop_event.set()
        else:
            log.warning("%s again: exiting now; the next start settles what was in flight", name)
            self.exit_code = 1
            for task in list(self.tasks):
                task.cancel()

    async def run_until_stopped(self) -> int:
        await self.stop_event.wait()
        return await self.drain()

    async def drain(self) -> int:
        self.stopping = True
        self.stop_event.set()
        self.budget.draining = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)  # stops firing; runs are our own tasks
        for task in [*self._background, *self._reloads]:
            task.cancel()
        in_flight = [task for task in self.tasks if not task.done()]
        if in_flight:
            log.info("waiting for %d run(s) in flight", len(in_flight))
            _, pending = await asyncio.wait(in_flight, timeout=self.options.drain_timeout)
            if pending:
                log.error(
                    "drain timeout (%gs): %d run(s) still in flight were stopped; the next "
                    "start continues them",
                    self.options.drain_timeout,
                    len(pending),
                )
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=5)
        for session in [*self.sessions.values(), *self._retired]:
            await session.close()
        self.slot_log.close()
        self.ledger.close()
        log.info("stopped")
        return self.exit_code
