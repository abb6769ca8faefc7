"""The status page in a real headless browser (Debian's chromium, driven by Playwright):
a serve against the sandbox with a send waiting for the owner's approval, a send in state
unknown and file names made to inject markup; the page shows what a person needs, has
nothing to click, fits a phone, loads nothing from anywhere, and shows no secret.

The browser is required: a missing one fails this test (`.ci/run` installs it)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import BrowserContext, async_playwright

from runner.client import TransferRequest
from runner.serve.http import HttpEndpoints
from runner.serve.status import serve_status
from tests.serve.conftest import ServeHarness, until, write_playbook
from tests.test_secrets import _pieces

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APPROVAL_SEND = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.2 ETH" }
  - id: settle
    wait: { transaction: "${{ steps.fund.id }}", until: CONFIRMED, timeout: 1h, interval: 1s }
"""
EVIL = "<script>alert('x')</script>&\"q\""
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "no chromium on PATH: the status page is tested in a real browser "
            "(Debian: apt-get install chromium; .ci/run installs it)"
        )
    return found


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        try:
            yield context
        finally:
            await context.close()


async def test_the_status_page_in_a_browser(
    harness: ServeHarness, browser: BrowserContext, tmp_path: Path
) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1s }")
    write_playbook(harness.books, "approver", "{ interval: 1s }", APPROVAL_SEND)
    evil = harness.books / EVIL.replace("/", "|")
    evil.mkdir()
    write_playbook(evil, "nightly", "{ cron: '0 3 * * *' }")
    (evil / "broken.yaml").write_text("version: 1\nname: broken\nsteps: [\n")
    serve = await harness.start(drain_timeout=0.5)
    serve.ledger.intend_send(
        key="reader/20261206T0100Z-ab12cd/fund",
        run_id="20261206T0100Z-ab12cd",
        playbook="reader",
        step_id="fund",
        request=TransferRequest(
            to="0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            raw=10**15,
            network="ethereum-sepolia",
            wallet_id="w-1",
            symbol="ETH",
        ),
    )
    serve.ledger.mark_unknown("reader/20261206T0100Z-ab12cd/fund", f"answer lost: {EVIL}")

    def approval_wait() -> list[dict[str, object]]:
        sends = serve_status(serve)["sends_in_flight"]
        return [send for send in sends if send["waiting_for"] == "approval"]

    await until(lambda: bool(approval_wait()), "the send waits for approval", 15)
    await until(lambda: bool(harness.slots("reader")), "a run of reader", 15)
    tx_id = approval_wait()[0]["tx_id"]
    endpoints = HttpEndpoints(serve, "127.0.0.1", 0)
    await endpoints.start()
    origin = f"http://127.0.0.1:{endpoints.port}"
    requested: list[str] = []
    browser.on("request", lambda request: requested.append(request.url))
    try:
        page = await browser.new_page()
        answer = await page.goto(origin + "/")
        assert answer is not None and answer.status == 200
        attention = await page.locator("#attention").inner_text()
        ledger = str(harness.state)
        key = "reader/20261206T0100Z-ab12cd/fund"
        assert f"waiaas-run resolve {key} --tx TX_ID --state {ledger}" in attention
        assert f"waiaas-run resolve {key} --not-sent --state {ledger}" in attention
        assert f"answer lost: {EVIL}" in attention
        daemon = harness.sandbox.url.rstrip("/")
        assert f"waiaas-run sandbox --approve {tx_id} --url {daemon}" in attention
        assert "waits for the wallet owner's approval" in attention
        in_flight = await page.locator("#in-flight").inner_text()
        assert str(tx_id) in in_flight and "QUEUED" in in_flight
        schedules = await page.locator("#schedules").inner_text()
        for name in ("reader", "approver", "nightly"):
            assert name in schedules
        assert "next slot" in schedules and "every 1s" in schedules
        assert str(evil) in schedules  # the file's path, shown as text
        reader_outcome = harness.slots("reader")[-1].outcome
        assert reader_outcome is not None and reader_outcome in schedules
        budget = await page.locator("#budget").inner_text()
        assert "requests/min" in budget and "rate-limited" in budget
        assert await page.locator("#audit").is_visible()
        assert str(evil / "broken.yaml") in await page.locator("#invalid").inner_text()
        # nothing that acts, no script, nothing to load
        actionable = "button, form, input, select, textarea, a, script, iframe, img, link, object"
        assert await page.locator(actionable).count() == 0
        refresh = page.locator('meta[http-equiv="refresh"]')
        assert await refresh.get_attribute("content") == "30"
        # a phone: the layout does not scroll sideways
        widths = await page.evaluate(
            "[document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
        )
        assert max(widths[:2]) <= widths[2] == PHONE["width"], widths
        await page.screenshot(path=str(tmp_path / "status-page-390.png"), full_page=True)
        dom = await page.content()
        (tmp_path / "status-page.html").write_text(dom, encoding="utf-8")  # to look at
        for piece in _pieces(harness.sandbox.token):
            assert piece not in dom
        assert all(urlsplit(url).netloc == urlsplit(origin).netloc for url in requested)
        assert requested and requested[0] == origin + "/"
    finally:
        await endpoints.close()
