"""An audit: every wallet the playbooks use, its transaction list against the ledger.

The judging is :mod:`runner.ledger.audit`'s; this module finds the wallets (through each
playbook's session, as a run resolves them), reads their lists within a bounded number of
list reads per session (the daemon allows 10 a minute per session), asks for the ledger's
transactions the list did not show by id, and cancels queued likely doubles when asked.
``waiaas-run audit`` and serve's periodic audit both call :func:`audit`.

An audit that could not read everything (the list reads ran out, a 429, a wallet that
cannot be resolved) says so: it is *incomplete*, never clean.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.client import ConnectInfo, Transaction, WAIaaSClient, WAIaaSError
from runner.engine.connection import environment, expression_env
from runner.engine.options import LaunchOptions
from runner.engine.scope import Run, RunScope
from runner.errors import ExitCode, RunnerError
from runner.ledger import AWAITING_APPROVAL, Ledger, LedgerError, SendIntent, SendState
from runner.ledger.audit import (
    FINAL_STATUSES,
    Finding,
    FindingKind,
    Unsettled,
    judge_wallet,
    lookups_needed,
)
from runner.ledger.reconcile import created_within
from runner.playbook import Playbook
from runner.secrets import mask_secrets
from runner.timestamps import iso_utc

__all__ = [
    "LIST_PAGE",
    "AuditReport",
    "AuditSettings",
    "AuditSource",
    "CancelOutcome",
    "WalletAudit",
    "audit",
]

LIST_PAGE = 100  # the daemon's largest page


@dataclass(frozen=True)
class AuditSettings:
    since: float = 24 * 3600.0  # seconds back from now
    near: float = 600.0  # a double is created within this many seconds of its send's intent
    max_list_reads: int = 5  # per session and audit: half of the daemon's 10 a minute
    cancel_queued: bool = False
    in_flight: float = 300.0  # an `intended` send younger than this may await its answer


@dataclass
class AuditSource:
    """One daemon session and the playbooks that use it (none: all its wallets)."""

    url: str  # names the session in messages (never its token)
    client: WAIaaSClient
    playbooks: list[Playbook] = field(default_factory=list)
    options: LaunchOptions = field(default_factory=LaunchOptions)
    connect_info: Callable[[], Awaitable[ConnectInfo]] | None = None


@dataclass
class WalletAudit:
    wallet_id: str
    label: str
    list_reads: int = 0
    transactions: int = 0
    complete: bool = True
    problem: str | None = None


@dataclass(frozen=True)
class CancelOutcome:
    tx_id: str
    send_key: str | None
    cancelled: bool
    detail: str


@dataclass
class AuditReport:
    audited_at: float
    since: float  # epoch seconds: transactions created from then on were read
    wallets: list[WalletAudit] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    unsettled: list[Unsettled] = field(default_factory=list)
    cancels: list[CancelOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what kept the audit from finishing

    @property
    def complete(self) -> bool:
        return not self.problems and all(wallet.complete for wallet in self.wallets)

    @property
    def exit_code(self) -> ExitCode:
        """3 a send's state is unknown; 1 findings, or the audit is incomplete; 0 clean."""
        if self.unsettled:
            return ExitCode.UNKNOWN_SEND
        if self.findings or not self.complete:
            return ExitCode.FAILED
        return ExitCode.OK

    def label(self, wallet_id: str) -> str:
        return next((w.label for w in self.wallets if w.wallet_id == wallet_id), wallet_id)

    def to_json(self) -> dict[str, Any]:
        cancelled = {c.tx_id: c for c in self.cancels}
        return {
            "audited_at": iso_utc(self.audited_at),
            "since": iso_utc(self.since),
            "complete": self.complete,
            "exit_code": int(self.exit_code),
            "wallets": [
                {
                    "wallet": w.label,
                    "wallet_id": w.wallet_id,
                    "list_reads": w.list_reads,
                    "transactions": w.transactions,
                    "complete": w.complete,
                    "problem": w.problem,
                }
                for w in self.wallets
            ],
            "findings": [
                finding_json(
                    f, self.label(f.wallet_id), self.audited_at, cancelled.get(f.tx_id or "")
                )
                for f in self.findings
            ],
            "unsettled": [
                {
                    "send_key": u.send_key,
                    "state": u.state,
                    "note": u.note,
                    "candidates": list(u.candidates),
                }
                for u in self.unsettled
            ],
            "cancelled": [
                {
                    "tx_id": c.tx_id,
                    "send_key": c.send_key,
                    "cancelled": c.cancelled,
                    "detail": c.detail,
                }
                for c in self.cancels
            ],
            "problems": self.problems,
        }


def finding_json(
    finding: Finding, wallet: str, found_at: float, cancel: CancelOutcome | None = None
) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "wallet": wallet,
        "wallet_id": finding.wallet_id,
        "tx_id": finding.tx_id,
        "send_key": finding.send_key,
        "status": finding.status,
        "summary": finding.summary,
        "found_at": iso_utc(found_at),
        "queued": finding.queued,
        "cancelled": None if cancel is None else cancel.cancelled,
    }


class _Allowance:
    """The list reads one session may still spend in this audit."""

    def __init__(self, reads: int) -> None:
        self.left = reads

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass
class _Wallet:
    audit: WalletAudit
    source: AuditSource
    allowance: _Allowance
    transactions: list[Transaction] = field(default_factory=list)


async def audit(
    sources: list[AuditSource],
    ledger: Ledger,
    settings: AuditSettings,
    *,
    clock: Callable[[], float] = time.time,
) -> AuditReport:
    """Audit every wallet of ``sources`` against ``ledger``."""
    now = clock()
    report = AuditReport(audited_at=now, since=now - settings.since)
    wallets: dict[str, _Wallet] = {}
    for source in sources:
        allowance = _Allowance(settings.max_list_reads)
        try:
            found = await _wallets_of(source, ledger, report.since, report.problems)
        except WAIaaSError as error:
            report.problems.append(mask_secrets(f"{source.url}: cannot list wallets: {error}"))
            continue
        for wallet_id, label in found.items():
            if wallet_id not in wallets:  # a wallet two sessions can read is read once
                wallets[wallet_id] = _Wallet(WalletAudit(wallet_id, label), source, allowance)
    for wallet in wallets.values():
        await _read_list(wallet, report.since)
    report.wallets = [wallet.audit for wallet in wallets.values()]
    # the ledger is read after the lists: a send answered meanwhile has claimed its
    # transaction, and one still waiting for its answer is `intended` (never a double)
    claimed = ledger.claimed_among(tx.id for w in wallets.values() for tx in w.transactions)
    sends = _sends_to_judge(ledger, report.since - settings.near)
    for wallet in wallets.values():
        await _judge(wallet, ledger, sends, claimed, report, settings)
    if settings.cancel_queued:
        await _cancel_queued(report, wallets)
    return report


async def _wallets_of(
    source: AuditSource, ledger: Ledger, since: float, problems: list[str]
) -> dict[str, str]:
    """Wallet id -> label (its alias, else its name) for every wallet the playbooks use,
    resolved as a run resolves them, and the wallets their recorded sends came from; what
    cannot be resolved or read is added to ``problems`` (the audit is then incomplete)."""
    info = await (source.connect_info or source.client.get_connect_info)()
    linked = {wallet.id: wallet.name for wallet in info.wallets}
    if not source.playbooks:
        return dict(linked)
    found: dict[str, str] = {}
    unreadable: set[str] = set()
    for playbook in source.playbooks:
        try:
            run = _resolving_run(playbook, source, ledger, info)
            aliases: list[str | None] = [*playbook.wallets] or [None]
            for alias in aliases:
                wallet = await run.wallets.wallet(alias)
                if wallet.id is not None:
                    found.setdefault(wallet.id, wallet.label)
        except RunnerError as error:
            problems.append(mask_secrets(f"playbook {playbook.name}: {error}"))
        for send in ledger.sends(playbook=playbook.name, since=since):
            if not send.wallet_id or send.wallet_id in found or send.wallet_id in unreadable:
                continue
            if send.wallet_id in linked:
                found[send.wallet_id] = linked[send.wallet_id]
            else:
                unreadable.add(send.wallet_id)  # said once
                problems.append(
                    f"send {send.key} came from wallet {send.wallet_id}, which the session "
                    f"of {source.url} cannot read"
                )
    return found


def _resolving_run(
    playbook: Playbook, source: AuditSource, ledger: Ledger, info: ConnectInfo
) -> Run:
    """A plan-mode run of ``playbook``: only to render its wallet names (env, vars) and
    resolve them through the session's wallet list, as a real run would."""

    async def known() -> ConnectInfo:
        return info

    scope = RunScope(playbook, source.client, ledger, "audit", "plan", connect_info=known)
    options = source.options
    env = expression_env(playbook, environment(playbook, options.environ), options)
    run = Run(scope, env=env)
    run.values.set_vars(options.variables)
    return run


async def _read_list(wallet: _Wallet, since: float) -> None:
    """Page through the wallet's list, newest first, back to ``since``."""
    audit_of = wallet.audit
    cursor: str | None = None
    while True:
        if not wallet.allowance.take():
            audit_of.complete = False
            audit_of.problem = (
                f"the list reads of this session ran out before reaching {iso_utc(since)} "
                f"({LIST_PAGE} transactions a read); allow more list reads (--max-list-reads; "
                "serve: --audit-max-list-reads) or a shorter --since"
            )
            return
        audit_of.list_reads += 1
        try:
            page = await wallet.source.client.list_transactions(
                limit=LIST_PAGE, cursor=cursor, wallet_id=audit_of.wallet_id
            )
        except WAIaaSError as error:
            audit_of.complete = False
            audit_of.problem = mask_secrets(f"could not read the transaction list: {error}")
            return
        for tx in page.items:
            created = created_within(tx)
            if created is not None and created[1] <= since:
                return  # older than the audit's window: the list reached back
            wallet.transactions.append(tx)
            audit_of.transactions += 1
        if not page.has_more or not page.cursor or not page.items:
            return
        cursor = page.cursor


def _sends_to_judge(ledger: Ledger, horizon: float) -> list[SendIntent]:
    """The sends intended since ``horizon``, and the unsettled ones of any age."""
    found = {send.key: send for send in ledger.sends(since=horizon)}
    for state in (SendState.UNKNOWN, SendState.INTENDED):
        found.update((send.key, send) for send in ledger.sends(state=state))
    return list(found.values())


async def _judge(
    wallet: _Wallet,
    ledger: Ledger,
    sends: list[SendIntent],
    claimed: set[str],
    report: AuditReport,
    settings: AuditSettings,
) -> None:
    wallet_id = wallet.audit.wallet_id
    intents = [send for send in sends if send.wallet_id == wallet_id]
    looked_up: dict[str, Transaction | None] = {}
    for tx_id in lookups_needed(wallet.transactions, intents, report.since):
        answer = await _look_up(wallet.source.client, tx_id)
        if isinstance(answer, str):  # could not tell: that send is left out, and said
            wallet.audit.complete = False
            wallet.audit.problem = answer
            intents = [send for send in intents if send.tx_id != tx_id]
        else:
            looked_up[tx_id] = answer
    _learn_statuses(ledger, intents, wallet.transactions, looked_up, report)
    judgement = judge_wallet(
        wallet_id,
        wallet.transactions,
        intents,
        claimed=claimed,
        looked_up=looked_up,
        since=report.since,
        near=settings.near,
        in_flight_since=report.audited_at - settings.in_flight,
    )
    report.findings += judgement.findings
    report.unsettled += judgement.unsettled


def _learn_statuses(
    ledger: Ledger,
    intents: list[SendIntent],
    listed: list[Transaction],
    looked_up: Mapping[str, Transaction | None],
    report: AuditReport,
) -> None:
    """Note in the ledger the daemon's status of each send whose recorded one is not final.
    A send nobody waited on stays PENDING or SUBMITTED in the ledger, and retention never
    removes an unsettled send: without this a send-only playbook's ledger would grow for
    ever. A final recorded status is never changed here (a difference is a finding)."""
    daemon = {tx.id: tx for tx in listed}
    daemon.update((tx_id, tx) for tx_id, tx in looked_up.items() if tx is not None)
    for intent in intents:
        tx = daemon.get(intent.tx_id or "")
        if tx is None or intent.tx_status in FINAL_STATUSES:
            continue
        if tx.status.value != intent.tx_status:
            try:
                # a wait's "awaiting approval" note stays while the daemon still holds it
                still_awaiting = intent.note == AWAITING_APPROVAL and tx.status.value == "QUEUED"
                ledger.record_tx_status(tx.id, tx.status.value, awaiting_approval=still_awaiting)
            except LedgerError as error:
                report.problems.append(f"could not note {tx.id}'s status in the ledger: {error}")
                return


async def _look_up(client: WAIaaSClient, tx_id: str) -> Transaction | str | None:
    """The transaction, None when the daemon does not know it, or why it cannot tell."""
    try:
        return await client.get_transaction(tx_id)
    except ValueError:  # not even an id the daemon could have given
        return None
    except WAIaaSError as error:
        if error.code == "TX_NOT_FOUND":
            return None
        return mask_secrets(f"could not read transaction {tx_id}: {error}")


async def _cancel_queued(report: AuditReport, wallets: Mapping[str, _Wallet]) -> None:
    """Cancel the likely doubles the daemon still holds QUEUED, and nothing else."""
    for finding in report.findings:
        if finding.kind is not FindingKind.LIKELY_DOUBLE or not finding.queued:
            continue
        assert finding.tx_id is not None
        client = wallets[finding.wallet_id].source.client
        try:
            result = await client.cancel_transaction(finding.tx_id)
        except (WAIaaSError, ValueError) as error:
            outcome = CancelOutcome(
                finding.tx_id, finding.send_key, False, mask_secrets(f"not cancelled: {error}")
            )
        else:
            done = result.status.value == "CANCELLED"
            outcome = CancelOutcome(
                finding.tx_id,
                finding.send_key,
                done,
                "cancelled" if done else f"the daemon answered {result.status.value}",
            )
        report.cancels.append(outcome)
