"""What serve is doing, as JSON (``GET /status``) and as text for a person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from runner.ledger import Ledger, SendState
from runner.ledger.slots import SlotLog
from runner.serve.audit import render_audit
from runner.serve.catalog import Catalog
from runner.serve.inflight import sends_in_flight
from runner.serve.triggers import build_trigger, describe, next_slots
from runner.timestamps import iso_utc

__all__ = ["ledger_status", "render_status", "serve_status"]


def _needing_a_person(ledger: Ledger) -> list[dict[str, Any]]:
    return [
        {"key": send.key, "playbook": send.playbook, "run_id": send.run_id, "note": send.note}
        for send in ledger.sends(state=SendState.UNKNOWN)  # by index: not years of sends
    ]


def serve_status(serve: Any) -> dict[str, Any]:
    """A running :class:`runner.serve.lifecycle.Serve`, as ``GET /status`` shows it."""
    playbooks = []
    for name, state in sorted(serve.states.items()):
        entry = state.entry
        playbooks.append(
            {
                "name": name,
                "path": str(entry.path),
                "schedule": describe(entry.schedule),
                "missed": entry.schedule.missed,
                "overlap": entry.schedule.overlap,
                "next_fire": iso_utc(serve.next_fire(name)),
                "running": iso_utc(state.running_slot),
                "queued": iso_utc(state.queued),
                "removed": state.removed,
                "last": state.last or _last_from_ledger(serve.slot_log, name),
            }
        )
    counters = serve.budget.counters
    return {
        "serve": {
            "started_at": iso_utc(serve.started_at),
            "ledger": str(serve.options.state),
            "stopping": serve.stopping,
            "requests": counters.requests,
            "rate_limited": counters.rate_limited,
            "overloaded": bool(serve.metrics.overloaded._value.get()),
            "demand_per_minute": round(serve.metrics.demand._value.get(), 1),
            "budget_per_minute": round(serve.metrics.budget._value.get(), 1),
            "sessions": [
                {
                    "url": session.url,
                    "expires_at": iso_utc(session.expires_at) if session.expires_at else None,
                    "renewal_error": session.renewal_error,
                    "token_refused": session.transport.refused,
                }
                for session in serve.sessions.values()
            ],
        },
        "playbooks": playbooks,
        "invalid": serve.invalid,
        "sends_needing_attention": _needing_a_person(serve.ledger),
        "sends_in_flight": sends_in_flight(serve.ledger, _daemon_of(serve)),
        "audit": serve.audit.status(),
    }


def _daemon_of(serve: Any) -> Callable[[str], str | None]:
    def url(playbook: str) -> str | None:
        state = serve.states.get(playbook)
        return None if state is None else str(state.session.url)

    return url


def _last_from_ledger(slots: SlotLog, name: str) -> dict[str, Any]:
    latest = slots.latest(name)
    if latest is None:
        return {}
    return {
        "run_id": latest.run_id,
        "slot": iso_utc(latest.slot),
        "outcome": latest.outcome,
        "reason": latest.reason,
        "finished_at": latest.finished_at,
    }


def ledger_status(
    ledger: Ledger, slots: SlotLog, catalog: Catalog | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The same from the ledger alone (no serve to ask): the last slot of each playbook;
    with the playbooks themselves (``catalog``), their schedules and next fires too."""
    moment = now or datetime.now(UTC)
    entries = catalog.entries if catalog is not None else {}
    playbooks = []
    for name in sorted(set(slots.playbooks()) | set(entries)):
        book: dict[str, Any] = {"name": name}
        entry = entries.get(name)
        if entry is not None:
            upcoming = next_slots(build_trigger(entry.schedule), moment, 1)
            book |= {
                "path": str(entry.path),
                "schedule": describe(entry.schedule),
                "missed": entry.schedule.missed,
                "overlap": entry.schedule.overlap,
                "next_fire": iso_utc(upcoming[0]) if upcoming else None,
            }
        book["last"] = _last_from_ledger(slots, name)
        playbooks.append(book)
    invalid = {str(path): problem for path, problem in (catalog.invalid if catalog else {}).items()}
    return {
        "serve": None,
        "playbooks": playbooks,
        "invalid": invalid,
        "sends_needing_attention": _needing_a_person(ledger),
        "sends_in_flight": sends_in_flight(ledger),
    }


def render_status(status: dict[str, Any]) -> str:
    lines: list[str] = []
    serve = status.get("serve")
    if serve:
        state = "stopping" if serve["stopping"] else "running"
        lines.append(
            f"serve {state} since {serve['started_at']}: {serve['requests']} requests, "
            f"{serve['rate_limited']} rate-limited; demand {serve['demand_per_minute']}/min "
            f"of a budget of {serve['budget_per_minute']}/min"
            + (" — OVERLOADED: runs start late" if serve["overloaded"] else "")
        )
        for session in serve["sessions"]:
            if session.get("token_refused"):
                lines.append(
                    f"  SESSION TOKEN REFUSED by {session['url']}: {session['token_refused']}; "
                    "every run of it fails until the token is replaced"
                )
            if session["renewal_error"]:
                lines.append(f"  SESSION RENEWAL FAILING for {session['url']}: ")
                lines[-1] += f"{session['renewal_error']} (expires {session['expires_at']})"
    lines.append(f"{'PLAYBOOK':<28} {'NEXT FIRE':<21} {'LAST SLOT':<21} OUTCOME")
    for book in status["playbooks"]:
        last = book.get("last") or {}
        outcome = last.get("outcome") or "-"
        if book.get("running"):
            outcome = f"running ({book['running']})"
        if last.get("reason") and outcome not in ("ok", "-"):
            outcome += f": {last['reason']}"
        lines.append(
            f"{book['name']:<28} {book.get('next_fire') or '-':<21} "
            f"{last.get('slot') or '-':<21} {outcome}"
        )
    for path, problem in status.get("invalid", {}).items():
        lines.append(f"INVALID {path}: {problem.splitlines()[0] if problem else ''}")
    lines += render_audit(status.get("audit"))
    attention = status["sends_needing_attention"]
    if attention:
        lines.append(f"{len(attention)} send(s) NEED A PERSON (see `waiaas-run resolve`):")
        lines.extend(f"  {send['key']}: {send['note']}" for send in attention)
    else:
        lines.append("no send needs a person")
    approvals = [s for s in status.get("sends_in_flight", []) if s.get("waiting_for")]
    if approvals:
        lines.append(f"{len(approvals)} send(s) WAIT FOR THE WALLET OWNER'S APPROVAL:")
        lines.extend(f"  {send['key']}: transaction {send['tx_id']}" for send in approvals)
    return "\n".join(lines)
