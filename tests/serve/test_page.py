"""The status page (``GET /``): every value escaped, only inert markup, the commands a
person needs, the audit section, and its headers — from the same dict as ``/status``."""

from __future__ import annotations

import html.parser
import shlex
from typing import Any

import httpx
import pytest

from runner.serve.http import HttpEndpoints
from runner.serve.page import DEFAULT_REFRESH_SECONDS, refresh_seconds, render_page
from runner.serve.status import render_status
from tests.serve.conftest import ServeHarness, write_playbook
from tests.test_secrets_everywhere import MARKED

INJECTIONS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "&amp; &lt;b&gt; & <b>bold</b>",
    "</style><style>body{display:none}</style>",
    "<!-- comment --><a href='https://example.org/x'>x</a>",
    '<meta http-equiv="refresh" content="0;url=https://example.org">',
    "<form action=/><button>send</button></form>",
    "]]><svg onload=alert(1)>",
]
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "section",
    "h1", "h2", "p", "span", "div", "dl", "dt", "dd", "pre",
}  # fmt: skip


class _Markup(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> _Markup:
    markup = _Markup()
    markup.feed(page)
    markup.close()
    return markup


def status_with(text: str, audit: dict[str, Any] | None = None) -> dict[str, Any]:
    """A /status dict with ``text`` in every string a person or a file could choose."""
    status: dict[str, Any] = {
        "serve": {
            "started_at": "2026-12-06T01:00:00Z",
            "ledger": f"/var/lib/{text}/ledger.sqlite3",
            "stopping": False,
            "requests": 12,
            "rate_limited": 1,
            "overloaded": True,
            "demand_per_minute": 310.5,
            "budget_per_minute": 285.0,
            "sessions": [
                {
                    "url": f"http://user:pw@127.0.0.1:3100/{text}?token=x",
                    "expires_at": "2026-12-07T00:00:00Z",
                    "renewal_error": f"renewal failed: {text}",
                    "token_refused": f"401 {text}",
                }
            ],
        },
        "playbooks": [
            {
                "name": f"book-{text}",
                "path": f"/books/{text}.yaml",
                "schedule": f"cron {text}",
                "missed": "skip",
                "overlap": "skip",
                "next_fire": "2026-12-06T02:00:00Z",
                "running": None,
                "queued": None,
                "removed": False,
                "last": {
                    "run_id": f"run-{text}",
                    "slot": "2026-12-06T01:00:00Z",
                    "outcome": "failed",
                    "reason": f"step fund: {text}",
                    "finished_at": 1.0,
                },
            }
        ],
        "invalid": {f"/books/{text}.yaml": f"/books/{text}.yaml:1:1: bad {text}"},
        "sends_needing_attention": [
            {"key": f"book/run-1/{text}", "playbook": "book", "run_id": "run-1", "note": text}
        ],
        "sends_in_flight": [
            {
                "key": f"book/run-2/{text}",
                "playbook": "book",
                "run_id": "run-2",
                "step": text,
                "state": "accepted",
                "wallet": text,
                "network": "ethereum-sepolia",
                "to": f"0xabc{text}",
                "amount_raw": "200000000000000000",
                "symbol": "ETH",
                "tx_id": f"01a2-{text}",
                "tx_status": "QUEUED",
                "waiting_for": "approval",
                "daemon_url": f"http://127.0.0.1:3100/{text}",
                "intended_at": "2026-12-06T01:00:00Z",
            }
        ],
    }
    if audit is not None:
        status["audit"] = audit
    return status


def audit_with(text: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "every": "1h",
        "last_audit_at": "2026-12-06T01:30:00Z",
        "complete": True,
        "findings": [
            {
                "kind": "likely_double",
                "wallet": f"treasury {text}",
                "tx_id": f"tx {text}",
                "send_key": f"book/run-1/{text}",
                "summary": f"two transfers for one send: {text}",
                "found_at": "2026-12-06T01:30:00Z",
                "queued": True,
            }
        ],
    }


@pytest.mark.parametrize("payload", INJECTIONS)
def test_every_value_is_escaped_and_only_inert_markup_is_made(payload: str) -> None:
    page = render_page(
        status_with(payload, audit_with(payload)), refresh=30, generated_at="2026-12-06"
    )
    markup = parse(page)
    tags = {tag for tag, _ in markup.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    for tag, attributes in markup.tags:
        names = {name for name, _ in attributes}
        assert names <= {"class", "id", "lang", "charset", "name", "content", "http-equiv"}, tag
    refreshes = [a for t, a in markup.tags if t == "meta" and ("http-equiv", "refresh") in a]
    assert refreshes == [[("http-equiv", "refresh"), ("content", "30")]]
    text = "".join(markup.text)
    # shown as text, where a person can read it (in the card, the invalid file, the audit)
    assert text.count(payload) >= 10, text
    assert "<style>" not in page.split("</style>", 1)[1]  # one stylesheet: the page's own


def test_commands_a_person_runs_are_exact_and_copyable() -> None:
    status = status_with("x")
    status["serve"]["ledger"] = "/srv/state dir/ledger.sqlite3"
    status["sends_needing_attention"] = [
        {"key": "book/run-1/fund", "playbook": "book", "run_id": "run-1", "note": "?"}
    ]
    status["sends_in_flight"][0] |= {
        "tx_id": "01a2139f-0000-7000-8000-000000000001",
        "daemon_url": "http://127.0.0.1:3100",
    }
    text = "".join(parse(render_page(status, refresh=30, generated_at="now")).text)
    state = shlex.quote("/srv/state dir/ledger.sqlite3")
    assert f"waiaas-run resolve book/run-1/fund --tx TX_ID --state {state}" in text
    assert f"waiaas-run resolve book/run-1/fund --not-sent --state {state}" in text
    tx = "01a2139f-0000-7000-8000-000000000001"
    assert f"waiaas-run sandbox --approve {tx} --url http://127.0.0.1:3100" in text
    assert f"waiaas-run sandbox --reject {tx} --url http://127.0.0.1:3100" in text
    # the unknown send, the approval, the refused token, the failing renewal
    assert "Needs a person (4)" in text


def test_the_audit_section_renders_findings_and_says_when_not_configured() -> None:
    text = "".join(
        parse(render_page(status_with("a", audit_with("z")), refresh=0, generated_at="n")).text
    )
    assert "Audit (1 finding(s))" in text and "two transfers for one send: z" in text
    assert "likely_double" in text and "treasury z" in text and "book/run-1/z" in text
    assert "Every 1h" in text and "2026-12-06T01:30:00Z (complete)" in text
    for absent in (None, {"enabled": False, "every": None, "last_audit_at": None,
                          "complete": None, "findings": []}):  # fmt: skip
        text = "".join(
            parse(render_page(status_with("a", absent), refresh=0, generated_at="n")).text
        )
        assert "audit: not configured" in text
    empty = audit_with("z") | {"findings": [], "complete": False}
    text = "".join(parse(render_page(status_with("a", empty), refresh=0, generated_at="n")).text)
    assert "No findings." in text and "(incomplete)" in text


def test_no_secret_reaches_the_page() -> None:
    status = status_with(MARKED)
    page = render_page(status, refresh=30, generated_at="now")
    jwt = MARKED.removeprefix("wai_sess_")
    for piece in (MARKED, jwt, *jwt.split(".")[1:]):
        assert piece not in page
    assert "user:pw" not in page and "token=x" not in page  # a URL's credentials


@pytest.mark.parametrize(
    ("asked", "seconds"),
    [
        *[(None, DEFAULT_REFRESH_SECONDS), ("0", 0), ("1", 5), ("60", 60), ("999999", 3600)],
        *[("x", DEFAULT_REFRESH_SECONDS), ("-5", DEFAULT_REFRESH_SECONDS), ("٣", 30)],
    ],
)
def test_refresh_is_bounded(asked: str | None, seconds: int) -> None:
    assert refresh_seconds(asked) == seconds


async def test_the_page_is_served_with_safe_headers_and_takes_no_action(
    harness: ServeHarness,
) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1h }")
    serve = await harness.start()
    endpoints = HttpEndpoints(serve, "127.0.0.1", 0)
    await endpoints.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{endpoints.port}") as http:
            page = await http.get("/")
            status = (await http.get("/status")).json()
            off = await http.get("/", params={"refresh": "0"})
            refused = [await http.request(method, "/") for method in ("POST", "PUT", "DELETE")]
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "form-action 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
        text = "".join(parse(page.text).text)
        assert "reader" in text and status["playbooks"][0]["next_fire"] in text
        assert status["sends_in_flight"] == [] and status["serve"]["ledger"] == str(harness.state)
        assert 'http-equiv="refresh"' in page.text and 'http-equiv="refresh"' not in off.text
        assert all(answer.status_code == 405 for answer in refused)
        assert harness.sandbox.token not in page.text
    finally:
        await endpoints.close()


def test_the_status_command_names_approval_waits_too() -> None:
    shown = render_status(status_with("x"))
    assert "1 send(s) WAIT FOR THE WALLET OWNER'S APPROVAL:" in shown
    assert "  book/run-2/x: transaction 01a2-x" in shown
    status = status_with("x")
    status["sends_in_flight"][0]["waiting_for"] = None
    assert "APPROVAL" not in render_status(status)
