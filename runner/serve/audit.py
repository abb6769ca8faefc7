"""Serve's periodic audit: every scheduled playbook's wallets against the ledger.

Every ``--audit-every`` (default 1h; ``--audit-every off`` turns it off) serve runs the
audit of ``waiaas-run audit`` over the playbooks it schedules, through each session's
paced transport: its list reads count in the request budget like a run's, so they never
provoke a 429 for the runs. It exposes what it found:

- ``waiaas_runner_audit_findings{kind}`` (gauge: the findings of the last audit, by kind,
  ``unsettled`` included), ``waiaas_runner_audit_complete`` (1 when the last audit read
  everything) and ``waiaas_runner_audit_last_timestamp_seconds``;
- one webhook post (``--audit-webhook``) per new finding, ``{"event": "audit_finding", …}``:
  a finding still there at the next audit is not posted again, nor after a restart (the
  ledger's ``audit_findings`` table, :mod:`runner.ledger.audit_log`); a post that failed
  is tried again at the next audit;
- the findings in ``GET /status`` under ``audit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Gauge

from runner.client import RetryPolicy, WAIaaSClient
from runner.ledger import LedgerError
from runner.ledger.audit import FindingKind
from runner.ledger.audit_log import AuditLog, Identity, Known
from runner.playbook.durations import duration_text
from runner.serve.engine_adapter import (
    AuditReport,
    AuditSettings,
    AuditSource,
    WebhookError,
    audit,
    finding_json,
    post_event,
)
from runner.timestamps import iso_utc

__all__ = ["ServeAudit", "ServeAuditOptions", "duration_text", "render_audit"]

log = logging.getLogger("runner.serve")

# A 429 despite pacing (another client used the session's list reads) is not waited out:
# that audit is incomplete and the next one reads again.
_NO_RATE_LIMIT_WAITS = RetryPolicy(max_retries=1, max_retry_after=0.0)
_KINDS = [*(kind.value for kind in FindingKind), "unsettled"]
_FIRST_AUDIT_AFTER = 60.0


@dataclass(frozen=True)
class ServeAuditOptions:
    every: float | None = 3600.0  # seconds between audits; None: off
    settings: AuditSettings = field(default_factory=AuditSettings)
    webhook: str | None = None  # where each new finding is posted


class ServeAudit:
    def __init__(
        self,
        serve: Any,
        options: ServeAuditOptions,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``sleep`` is the webhook's retry wait; audits are paced on serve's stop event."""
        self._serve = serve
        self.options = options
        self._clock = clock
        self._sleep = sleep
        registry = serve.metrics.registry
        self.gauge = Gauge(
            "waiaas_runner_audit_findings",
            "Findings of serve's last audit, by kind (likely_double, foreign, "
            "unknown_to_daemon, mismatch, unsettled)",
            ["kind"],
            registry=registry,
        )
        self.complete_gauge = Gauge(
            "waiaas_runner_audit_complete",
            "1 when serve's last audit read every wallet back to its window, else 0",
            registry=registry,
        )
        self.last_gauge = Gauge(
            "waiaas_runner_audit_last_timestamp_seconds",
            "When serve's last audit finished",
            registry=registry,
        )
        for kind in _KINDS:
            self.gauge.labels(kind).set(0)
        self.report: AuditReport | None = None
        # every finding ever recorded, with when it was first found, and those posted:
        # read back from the ledger, so a restart posts nothing twice
        self._log = AuditLog(serve.options.state)
        known: dict[Identity, Known] = {}
        if self.enabled:  # an audit that is off leaves the ledger as it is
            try:
                known = self._log.known()
            except LedgerError as error:
                log.error("audit: %s; findings posted before may be posted again", error)
        self.found_at = {identity: k.found_at for identity, k in known.items()}
        self.posted = {identity for identity, k in known.items() if k.posted_at is not None}
        self._unrecorded: dict[Identity, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.options.every is not None

    def start(self) -> asyncio.Task[None] | None:
        """The audits' task (None when off): the first a minute after the start (or one
        interval, if shorter), when the runs catching up have had their turn."""
        if self.enabled:
            self._task = asyncio.create_task(self._loop(), name="serve audit")
        return self._task

    async def _loop(self) -> None:
        every = self.options.every
        assert every is not None
        wait = min(every, _FIRST_AUDIT_AFTER)
        while not await self._stopped_within(wait):
            try:
                await self.run_once()
            except Exception:  # a bug of ours must not end serve; the next audit tries again
                log.exception("the audit failed")
            wait = every

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._serve.stop_event.wait(), seconds)
        return bool(self._serve.stopping or self._serve.stop_event.is_set())

    async def run_once(self) -> AuditReport:
        """One audit of the playbooks scheduled now; records, counts and posts it."""
        async with self._turn:
            report = await audit(
                await self._sources(), self._serve.ledger, self.options.settings, clock=self._clock
            )
            self._record(report)
            await self._post_new(report)
            return report

    async def _sources(self) -> list[AuditSource]:
        by_session: dict[int, AuditSource] = {}
        for state in self._serve.states.values():
            if state.removed:
                continue
            session = state.session
            source = by_session.get(id(session))
            if source is None:
                client = WAIaaSClient(
                    session.url,
                    session.token,
                    retry_policy=_NO_RATE_LIMIT_WAITS,
                    timeout=self._serve.options.launch.request_timeout,
                    http_client=session.http,  # the paced pool: the request budget
                )
                source = AuditSource(
                    session.url,
                    client,
                    [],
                    self._serve.options.launch,
                    connect_info=session.connect_info,
                )
                by_session[id(session)] = source
            source.playbooks.append(state.entry.playbook)
        return list(by_session.values())

    def _record(self, report: AuditReport) -> None:
        for finding in report.findings:
            if finding.identity not in self.found_at:
                self.found_at[finding.identity] = report.audited_at
                self._unrecorded[finding.identity] = report.audited_at
        self.report = report
        counts = dict.fromkeys(_KINDS, 0)
        for finding in report.findings:
            counts[finding.kind.value] += 1
        counts["unsettled"] = len(report.unsettled)
        for kind, count in counts.items():
            self.gauge.labels(kind).set(count)
        self.complete_gauge.set(int(report.complete))
        self.last_gauge.set(report.audited_at)
        fields = {
            "event": "audit",
            "findings": len(report.findings),
            "unsettled": len(report.unsettled),
            "complete": report.complete,
        }
        level = logging.INFO if report.complete and not report.findings else logging.WARNING
        problems = [w.problem for w in report.wallets if w.problem] + report.problems
        log.log(
            level,
            "audit: %d finding(s), %d unsettled send(s)%s",
            len(report.findings),
            len(report.unsettled),
            f"; INCOMPLETE: {'; '.join(problems)}" if not report.complete else "",
            extra={"fields": fields},
        )

    async def _post_new(self, report: AuditReport) -> None:
        posted: list[tuple[Identity, float]] = []
        try:
            await self._post_each(report, posted)
        finally:
            forget_before = self._forget_posted_before(report)
            try:
                self._log.record(self._unrecorded, posted, forget_before=forget_before)
                self._unrecorded = {}
            except LedgerError as error:  # kept in memory; written with the next audit
                log.error("audit: %s", error)

    def _forget_posted_before(self, report: AuditReport) -> float:
        """A transaction is listed by the audits of one window after it was made, and found
        no earlier than it was made: a posted finding twice a window old never comes back.
        Forgetting it keeps the table and this process's memory bounded on a long serve."""
        cutoff = report.audited_at - 2 * self.options.settings.since
        for identity, found_at in list(self.found_at.items()):
            if found_at < cutoff and identity in self.posted:
                del self.found_at[identity]
                self.posted.discard(identity)
        return cutoff

    async def _post_each(self, report: AuditReport, posted: list[tuple[Identity, float]]) -> None:
        for finding in report.findings:
            if finding.identity in self.posted:
                continue
            event = {
                "event": "audit_finding",
                **finding_json(
                    finding, report.label(finding.wallet_id), self.found_at[finding.identity]
                ),
            }
            log.warning(
                "audit finding: %s", finding.summary, extra={"fields": {"event": "audit_finding"}}
            )
            if self.options.webhook:
                try:
                    await post_event(self.options.webhook, event, sleep=self._sleep)
                except WebhookError as error:  # tried again at the next audit
                    log.warning("audit webhook: %s", error)
                    continue
            self.posted.add(finding.identity)
            posted.append((finding.identity, self._clock()))

    def status(self) -> dict[str, Any]:
        """The ``audit`` key of ``GET /status``."""
        report = self.report
        every = self.options.every
        body: dict[str, Any] = {
            "enabled": self.enabled,
            "every": None if every is None else duration_text(every),
            "since": duration_text(self.options.settings.since),
            "last_audit_at": None if report is None else iso_utc(report.audited_at),
            "complete": None if report is None else report.complete,
            "findings": [],
            "unsettled": [],
            "problems": [],
        }
        if report is None:
            return body
        data = report.to_json()
        body["findings"] = [
            finding_json(f, report.label(f.wallet_id), self.found_at[f.identity])
            for f in report.findings
        ]
        body["unsettled"] = data["unsettled"]
        body["problems"] = [
            f"{w['wallet']}: {w['problem']}" for w in data["wallets"] if w["problem"]
        ] + data["problems"]
        return body


def render_audit(audit_status: dict[str, Any] | None) -> list[str]:
    """Lines for ``waiaas-run status``: the last audit's verdict and its findings."""
    if not audit_status or not audit_status.get("enabled"):
        return ["audit: off"] if audit_status else []
    if audit_status.get("last_audit_at") is None:
        return [f"audit: every {audit_status['every']}, none yet"]
    findings = audit_status.get("findings") or []
    verdict = f"{len(findings)} finding(s)" if findings else "nothing found"
    if not audit_status.get("complete"):
        verdict += " — INCOMPLETE, not clean: " + "; ".join(audit_status.get("problems") or [])
    lines = [f"audit at {audit_status['last_audit_at']}: {verdict}"]
    lines += [f"  {f['kind'].upper()} {f['wallet']}: {f['summary']}" for f in findings]
    return lines
