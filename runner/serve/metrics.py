"""Serve's Prometheus metrics, in a registry of its own (one per serve instance)."""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]

_PREFIX = "waiaas_runner_"
# runs of one-read playbooks take milliseconds; nightly sweeps with waits take minutes
_DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)
_LATENESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs = Counter(
            _PREFIX + "runs", "Runs finished, by outcome", ["playbook", "outcome"], registry=r
        )
        self.run_duration = Histogram(
            _PREFIX + "run_duration_seconds",
            "How long runs took",
            ["playbook"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.start_lateness = Histogram(
            _PREFIX + "start_lateness_seconds",
            "Seconds between a slot's planned start (nominal time plus jitter) and the run's "
            "start (admitted and recorded as started in the ledger, before its work and its "
            "wait for a run place)",
            buckets=_LATENESS_BUCKETS,
            registry=r,
        )
        self.first_request_lateness = Histogram(
            _PREFIX + "first_request_lateness_seconds",
            "Seconds between a slot's planned start and its run's first request leaving "
            "(waiting for a run place and for the request budget included)",
            buckets=_LATENESS_BUCKETS,
            registry=r,
        )
        self.last_success = Gauge(
            _PREFIX + "last_success_timestamp_seconds",
            "When the playbook last finished a run ok",
            ["playbook"],
            registry=r,
        )
        self.next_run = Gauge(
            _PREFIX + "next_run_timestamp_seconds",
            "The playbook's next nominal slot",
            ["playbook"],
            registry=r,
        )
        self.sends = Counter(
            _PREFIX + "sends",
            "Sends by outcome (sent, adopted, failed, unknown)",
            ["playbook", "outcome"],
            registry=r,
        )
        self.slots_skipped = Counter(
            _PREFIX + "slots_skipped",
            "Slots that did not run, by reason (missed, overlap, shutdown)",
            ["playbook", "reason"],
            registry=r,
        )
        self.runs_delayed = Counter(
            _PREFIX + "runs_delayed",
            "Runs that started, or sent their first request, more than the grace period "
            "after their slot (waiting for a free run slot or for the request budget)",
            ["playbook"],
            registry=r,
        )
        self.rate_limited = Counter(
            _PREFIX + "rate_limited", "429 answers from the daemon", registry=r
        )
        self.requests = Counter(_PREFIX + "requests", "Requests sent to the daemon", registry=r)
        self.demand = Gauge(
            _PREFIX + "request_demand_per_minute",
            "Requests a minute the schedules ask for (measured per run, estimated before)",
            registry=r,
        )
        self.budget = Gauge(
            _PREFIX + "request_budget_per_minute",
            "Requests a minute serve allows itself below the daemon's rate limits",
            registry=r,
        )
        self.overloaded = Gauge(
            _PREFIX + "overloaded",
            "1 while the schedules ask for more requests than the budget",
            registry=r,
        )
        self.heartbeat = Gauge(
            _PREFIX + "heartbeat_timestamp_seconds",
            "Updated every second while the scheduler loop is alive",
            registry=r,
        )
        self.clock_jumps = Counter(
            _PREFIX + "clock_jumps", "Wall-clock jumps noticed by the watchdog", registry=r
        )
        self.session_renewals = Counter(
            _PREFIX + "session_renewals", "Session renewals, by outcome", ["outcome"], registry=r
        )
        self.playbooks = Gauge(
            _PREFIX + "playbooks_scheduled", "Playbooks on a schedule", registry=r
        )

    def forget(self, playbook: str) -> None:
        """Drop the series of a playbook that is no longer scheduled."""
        for metric in (self.last_success, self.next_run, self.run_duration):
            with contextlib.suppress(KeyError):
                metric.remove(playbook)

    def render(self) -> bytes:
        return generate_latest(self.registry)
