"""``GET /``: serve's ``/status`` as one read-only HTML page for a person, a phone included.

Rendered on the server from the very dict ``/status`` returns (one source of truth), with
every value escaped, inline CSS only, no script, no form and no link that acts: the page
never moves money. What a person must do is shown as the exact command to copy.
"""

from __future__ import annotations

import html
import shlex
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from runner.secrets import mask_secrets
from runner.serve.page_style import PAGE_HEADERS, STYLE

__all__ = ["DEFAULT_REFRESH_SECONDS", "PAGE_HEADERS", "refresh_seconds", "render_page"]

DEFAULT_REFRESH_SECONDS = 30
_REFRESH_RANGE = (5, 3600)

_GOOD = {"ok"}
_BAD = {"failed", "unknown", "internal error"}


def refresh_seconds(asked: str | None) -> int:
    """The page's refresh interval from ``?refresh=N`` (0 turns it off; bounded)."""
    if asked is None or not asked.isascii() or not asked.isdigit():
        return DEFAULT_REFRESH_SECONDS
    seconds = int(asked)
    if seconds == 0:
        return 0
    return min(max(seconds, _REFRESH_RANGE[0]), _REFRESH_RANGE[1])


def _text(value: object) -> str:
    """Any value as page text: tokens masked, then HTML-escaped (quotes too)."""
    if value is None or value == "":
        return "&#8211;"  # an en dash
    return html.escape(mask_secrets(str(value)), quote=True)


def _url(value: object) -> str:
    """A daemon URL without what could be a credential (user:password@, a query)."""
    if not isinstance(value, str):
        return _text(value)
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
    except ValueError:
        return _text(value)
    return _text(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


def _badge(outcome: object, kind: str | None = None) -> str:
    word = str(outcome or "never ran")
    kind = kind or ("ok" if word in _GOOD else "bad" if word in _BAD else "mid")
    return f'<span class="badge {kind}">{_text(word)}</span>'


def _fields(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list; values are already escaped HTML."""
    rows = "".join(f"<dt>{_text(label)}</dt><dd>{value}</dd>" for label, value in pairs)
    return f"<dl>{rows}</dl>"


def _command(*words: str) -> str:
    return f"<pre>{_text(shlex.join(words))}</pre>"


def _card(body: str, kind: str = "") -> str:
    return f'<div class="card{" " + kind if kind else ""}">{body}</div>'


# -- sections ---------------------------------------------------------------------------------


def _header(status: dict[str, Any], refresh: int, generated_at: str) -> str:
    serve = status.get("serve") or {}
    state = "stopping" if serve.get("stopping") else "running"
    refreshing = f"refreshes every {refresh} s" if refresh else "does not refresh"
    return (
        "<header><h1>waiaas-runner serve</h1>"
        f"<p>{_badge(state, 'mid' if serve.get('stopping') else 'ok')} "
        f"since {_text(serve.get('started_at'))}</p>"
        f'<p class="meta">Shown at {_text(generated_at)} · this page {refreshing} · '
        "read-only: it shows commands to run, it never acts · "
        f"ledger {_text(serve.get('ledger'))}</p></header>"
    )


def _resolve_cards(status: dict[str, Any], ledger: str | None) -> list[str]:
    state = ["--state", ledger] if ledger else []
    cards = []
    for send in status.get("sends_needing_attention") or []:
        key = str(send.get("key") or "")
        cards.append(
            _card(
                f'<p><span class="name">{_text(key)}</span> {_badge("unknown")}</p>'
                + _fields(
                    [
                        ("playbook", _text(send.get("playbook"))),
                        ("run", _text(send.get("run_id"))),
                        ("note", _text(send.get("note"))),
                    ]
                )
                + "<p>Nobody can tell whether this send created a transaction. Look for it "
                "in the daemon's transaction list, then record what you found. It exists "
                "(put its id in place of TX_ID):</p>"
                + _command("waiaas-run", "resolve", key, "--tx", "TX_ID", *state)
                + "<p>It does not exist:</p>"
                + _command("waiaas-run", "resolve", key, "--not-sent", *state),
                "alert",
            )
        )
    return cards


def _approval_cards(status: dict[str, Any]) -> list[str]:
    cards = []
    for send in status.get("sends_in_flight") or []:
        if send.get("waiting_for") != "approval":
            continue
        tx_id = str(send.get("tx_id") or "")
        url = ["--url", _plain_url(send.get("daemon_url"))] if send.get("daemon_url") else []
        cards.append(
            _card(
                f'<p><span class="name">{_text(send.get("key"))}</span> '
                f"{_badge('waiting for approval')}</p>"
                + _send_fields(send)
                + "<p>The transaction waits for the wallet owner's approval. Approve or "
                "reject it where the owner approves WAIaaS transactions (the daemon's owner "
                "approval channel). Against the sandbox:</p>"
                + _command("waiaas-run", "sandbox", "--approve", tx_id, *url)
                + _command("waiaas-run", "sandbox", "--reject", tx_id, *url),
                "warn",
            )
        )
    return cards


def _plain_url(value: object) -> str:
    return html.unescape(_url(value))


def _session_cards(status: dict[str, Any]) -> list[str]:
    cards = []
    for session in (status.get("serve") or {}).get("sessions") or []:
        if session.get("token_refused"):
            cards.append(
                _card(
                    f"<p>The daemon at {_url(session.get('url'))} refuses the session token "
                    f"({_text(session.get('token_refused'))}): every run of it fails until "
                    "the token is replaced (put a new one in the token file, then SIGHUP).</p>",
                    "alert",
                )
            )
        if session.get("renewal_error"):
            cards.append(
                _card(
                    f"<p>Session renewal is failing for {_url(session.get('url'))} (the token "
                    f"expires {_text(session.get('expires_at'))}): "
                    f"{_text(session.get('renewal_error'))}</p>",
                    "alert",
                )
            )
    return cards


def _attention(status: dict[str, Any]) -> str:
    ledger = (status.get("serve") or {}).get("ledger")
    cards = [
        *_resolve_cards(status, ledger),
        *_approval_cards(status),
        *_session_cards(status),
    ]
    body = "".join(cards) or "<p>Nothing needs a person.</p>"
    return f'<section id="attention"><h2>Needs a person ({len(cards)})</h2>{body}</section>'


def _send_fields(send: dict[str, Any]) -> str:
    amount = f"{send.get('amount_raw')} (smallest units of {send.get('symbol')})"
    return _fields(
        [
            ("playbook", _text(send.get("playbook"))),
            ("step", _text(send.get("step"))),
            ("from wallet", _text(send.get("wallet"))),
            ("to", _text(send.get("to"))),
            ("amount", _text(amount)),
            ("network", _text(send.get("network"))),
            ("transaction", _text(send.get("tx_id"))),
            ("status", _text(send.get("tx_status") or send.get("state"))),
            ("since", _text(send.get("intended_at"))),
        ]
    )


def _in_flight(status: dict[str, Any]) -> str:
    sends = status.get("sends_in_flight") or []
    cards = [
        _card(
            f'<p><span class="name">{_text(send.get("key"))}</span> '
            f"{_badge(send.get('tx_status') or send.get('state'))}</p>" + _send_fields(send)
        )
        for send in sends
    ]
    body = "".join(cards) or "<p>No send is in flight.</p>"
    return f'<section id="in-flight"><h2>Sends in flight ({len(sends)})</h2>{body}</section>'


def _schedules(status: dict[str, Any]) -> str:
    books = status.get("playbooks") or []
    outcomes = Counter(str((b.get("last") or {}).get("outcome") or "never ran") for b in books)
    summary = ", ".join(f"{count} {_text(word)}" for word, count in sorted(outcomes.items()))
    cards = []
    for book in books:
        last = book.get("last") or {}
        now = []
        if book.get("running"):
            now.append(("running", f"slot {_text(book['running'])}"))
        if book.get("queued"):
            now.append(("queued", f"slot {_text(book['queued'])}"))
        removed = " (removed: goes after its run in flight)" if book.get("removed") else ""
        cards.append(
            _card(
                f'<p><span class="name">{_text(book.get("name"))}</span>'
                f"{_text(removed) if removed else ''} {_badge(last.get('outcome'))}</p>"
                + _fields(
                    [
                        ("schedule", _text(book.get("schedule"))),
                        ("next slot", _text(book.get("next_fire"))),
                        *now,
                        ("last slot", _text(last.get("slot"))),
                        ("last run", _text(last.get("run_id"))),
                        ("reason", _text(last.get("reason"))),
                        ("file", _text(book.get("path"))),
                    ]
                ),
                "alert" if last.get("outcome") in _BAD else "",
            )
        )
    body = "".join(cards) or "<p>No playbook is scheduled.</p>"
    return (
        f'<section id="schedules"><h2>Schedules ({len(books)})</h2>'
        f'<p class="meta">Last outcomes: {summary or "&#8211;"}</p>{body}</section>'
    )


def _budget(status: dict[str, Any]) -> str:
    serve = status.get("serve") or {}
    overloaded = serve.get("overloaded")
    verdict = (
        _badge("overloaded: runs start late (none is dropped)", "bad")
        if overloaded
        else _badge("within budget", "ok")
    )
    return (
        '<section id="budget"><h2>Request budget</h2>'
        + _card(
            f"<p>{verdict}</p>"
            + _fields(
                [
                    ("demand", f"{_text(serve.get('demand_per_minute'))} requests/min"),
                    ("budget", f"{_text(serve.get('budget_per_minute'))} requests/min"),
                    ("requests sent", _text(serve.get("requests"))),
                    ("rate-limited (429)", _text(serve.get("rate_limited"))),
                    ("sessions", _text(len(serve.get("sessions") or []))),
                ]
            ),
            "warn" if overloaded else "",
        )
        + "</section>"
    )


def _sessions(status: dict[str, Any]) -> str:
    sessions = (status.get("serve") or {}).get("sessions") or []
    cards = [
        _card(
            _fields(
                [
                    ("daemon", _url(session.get("url"))),
                    ("token expires", _text(session.get("expires_at") or "never")),
                    ("renewal", _text(session.get("renewal_error") or "ok")),
                    ("token refused", _text(session.get("token_refused") or "no")),
                ]
            )
        )
        for session in sessions
    ]
    return f'<section id="sessions"><h2>Sessions ({len(sessions)})</h2>{"".join(cards)}</section>'


def _invalid(status: dict[str, Any]) -> str:
    invalid = status.get("invalid") or {}
    if not invalid:
        return ""
    cards = [
        _card(f'<p class="name">{_text(path)}</p><pre>{_text(problem)}</pre>', "alert")
        for path, problem in invalid.items()
    ]
    return (
        f'<section id="invalid"><h2>Invalid playbooks ({len(invalid)})</h2>'
        "<p>Not scheduled (an edit of a scheduled playbook keeps its previous version).</p>"
        f"{''.join(cards)}</section>"
    )


def _audit(status: dict[str, Any]) -> str:
    audit = status.get("audit")
    if not isinstance(audit, dict) or not audit.get("enabled"):
        return '<section id="audit"><h2>Audit</h2><p>audit: not configured</p></section>'
    findings = audit.get("findings") or []
    complete = audit.get("complete")
    state = "complete" if complete else "incomplete" if complete is False else "not run yet"
    cards = [
        _card(
            f"<p>{_badge(finding.get('kind'))} {_text(finding.get('summary'))}</p>"
            + _fields(
                [
                    ("wallet", _text(finding.get("wallet"))),
                    ("transaction", _text(finding.get("tx_id"))),
                    ("send", _text(finding.get("send_key"))),
                    ("found", _text(finding.get("found_at"))),
                    ("queued", _text("yes" if finding.get("queued") else "no")),
                ]
            ),
            "alert",
        )
        for finding in findings
    ]
    return (
        f'<section id="audit"><h2>Audit ({len(findings)} finding(s))</h2>'
        f"<p>Every {_text(audit.get('every'))} · last audit "
        f"{_text(audit.get('last_audit_at'))} ({_text(state)})</p>"
        f"{''.join(cards) or '<p>No findings.</p>'}</section>"
    )


def render_page(status: dict[str, Any], *, refresh: int, generated_at: str) -> str:
    """The whole page for ``status`` (what ``serve_status`` returns)."""
    meta_refresh = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'{meta_refresh}<meta name="referrer" content="no-referrer">'
        f"<title>waiaas-runner serve</title><style>{STYLE}</style></head><body>"
        + _header(status, refresh, generated_at)
        + "<main>"
        + _attention(status)
        + _in_flight(status)
        + _schedules(status)
        + _budget(status)
        + _audit(status)
        + _invalid(status)
        + _sessions(status)
        + "</main></body></html>"
    )
