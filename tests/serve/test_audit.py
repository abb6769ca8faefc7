"""Serve's periodic audit against the sandbox: one webhook post per new finding (not
repeated by the next audit), the findings metric, the ``audit`` key of ``/status``, the
list reads paced by the request budget, and the off switch."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from runner.client import TransferRequest, WAIaaSClient
from runner.ledger import Ledger
from runner.scenario.receiver import WebhookReceiver
from runner.serve.audit import ServeAuditOptions, render_audit
from runner.serve.engine_adapter import AuditSettings
from runner.serve.http import HttpEndpoints
from runner.serve.lifecycle import Serve
from runner.serve.status import render_status
from tests.serve.conftest import ServeHarness, until, write_playbook

STRANGER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
FINDING_KEYS = {"kind", "wallet", "tx_id", "send_key", "summary", "found_at", "queued"}


async def post(harness: ServeHarness, to: str, raw: int) -> str:
    treasury = harness.sandbox.wallet("treasury")["id"]
    async with WAIaaSClient(harness.sandbox.url, harness.sandbox.token) as client:
        sent = await client.send(
            TransferRequest(to, raw, network="ethereum-sepolia", wallet_id=treasury)
        )
    return sent.id


def intended_and_accepted(harness: ServeHarness, key: str, to: str, raw: int, tx_id: str) -> None:
    treasury = harness.sandbox.wallet("treasury")["id"]
    request = TransferRequest(to, raw, network="ethereum-sepolia", wallet_id=treasury, symbol="ETH")
    with Ledger(harness.state) as ledger:
        ledger.intend_send(
            key=key, run_id=key.split("/")[1], playbook="reader", step_id="s", request=request
        )
        ledger.mark_accepted(key, tx_id, "PENDING")


def gauge(serve: Serve) -> dict[str, float]:
    families = text_string_to_metric_families(serve.metrics.render().decode())
    return {
        sample.labels["kind"]: sample.value
        for family in families
        if family.name == "waiaas_runner_audit_findings"
        for sample in family.samples
    }


async def test_each_new_finding_is_posted_once_counted_and_shown(harness: ServeHarness) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1h }")
    async with WebhookReceiver() as receiver:
        serve = await harness.start(audit=ServeAuditOptions(every=3600.0, webhook=receiver.url))
        agent = harness.sandbox.wallet("agent")["address"]
        # a send the ledger knows, then the same transfer again (a double made on
        # purpose, straight to the daemon) and a foreign one
        own = await post(harness, agent, 1000)
        intended_and_accepted(harness, "reader/r1/s", agent, 1000, own)
        double = await post(harness, agent, 1000)
        foreign = await post(harness, STRANGER, 2000)
        requests_before = serve.budget.counters.requests
        report = await serve.audit.run_once()
        assert {(f.kind.value, f.tx_id) for f in report.findings} == {
            ("likely_double", double),
            ("foreign", foreign),
        }
        # the audit's requests went through the paced transport, and provoked no 429
        assert serve.budget.counters.requests > requests_before
        assert serve.budget.counters.rate_limited == 0
        events = receiver.take()
        assert sorted((e["event"], e["kind"], e["tx_id"]) for e in events) == sorted(
            [("audit_finding", "likely_double", double), ("audit_finding", "foreign", foreign)]
        )
        assert all(harness.sandbox.token not in str(e) for e in events)
        assert gauge(serve) == {
            "likely_double": 1.0,
            "foreign": 1.0,
            "unknown_to_daemon": 0.0,
            "mismatch": 0.0,
            "unsettled": 0.0,
        }
        status = serve.audit.status()
        assert status["enabled"] is True and status["every"] == "1h"
        assert status["complete"] is True and status["last_audit_at"].endswith("Z")
        assert {f["tx_id"] for f in status["findings"]} == {double, foreign}
        for finding in status["findings"]:
            assert set(finding) >= FINDING_KEYS and finding["wallet"] == "treasury"
        first_found = {f["tx_id"]: f["found_at"] for f in status["findings"]}
        # the next audit finds the same two: nothing is posted again
        await serve.audit.run_once()
        assert receiver.take() == []
        # a new foreign transfer: exactly one post, for it
        another = await post(harness, STRANGER, 3000)
        await serve.audit.run_once()
        assert [(e["kind"], e["tx_id"]) for e in receiver.take()] == [("foreign", another)]
        assert gauge(serve)["foreign"] == 2.0
        again = {f["tx_id"]: f["found_at"] for f in serve.audit.status()["findings"]}
        assert {k: again[k] for k in first_found} == first_found  # found when first found


async def test_status_endpoint_and_the_person_s_view(harness: ServeHarness) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1h }")
    serve = await harness.start()
    endpoints = HttpEndpoints(serve, "127.0.0.1", 0)
    await endpoints.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{endpoints.port}") as http:
            before = (await http.get("/status")).json()["audit"]
            assert before["enabled"] is True and before["last_audit_at"] is None
            assert before["complete"] is None and before["findings"] == []
            foreign = await post(harness, STRANGER, 4000)
            await serve.audit.run_once()
            after = (await http.get("/status")).json()
        assert [f["tx_id"] for f in after["audit"]["findings"]] == [foreign]
        text = render_status(after)
        assert "audit at" in text and "1 finding(s)" in text and foreign in text
    finally:
        await endpoints.close()


async def test_an_incomplete_audit_is_said_in_status(harness: ServeHarness) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1h }")
    settings = AuditSettings(max_list_reads=1)  # two wallets, one read: the agent unread
    serve = await harness.start(audit=ServeAuditOptions(settings=settings))
    report = await serve.audit.run_once()
    assert not report.complete
    status = serve.audit.status()
    assert status["complete"] is False and status["problems"]
    assert "INCOMPLETE, not clean" in "\n".join(render_audit(status))


async def test_audits_run_on_their_own_and_can_be_switched_off(harness: ServeHarness) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1h }")
    serve = await harness.start(audit=ServeAuditOptions(every=0.05))
    await until(lambda: serve.audit.report is not None, "a first audit")
    first = serve.audit.report
    await until(lambda: serve.audit.report is not first, "a second audit")
    await harness.stop()
    off = await harness.start(audit=ServeAuditOptions(every=None))
    requests = off.budget.counters.requests
    await asyncio.sleep(0.2)
    assert off.audit.report is None and off.audit.status() == {
        "enabled": False,
        "every": None,
        "since": "1d",
        "last_audit_at": None,
        "complete": None,
        "findings": [],
        "unsettled": [],
        "problems": [],
    }
    assert off.budget.counters.requests == requests  # no list read without audits
    assert render_audit(off.audit.status()) == ["audit: off"]


async def test_a_restart_posts_no_finding_twice(harness: ServeHarness) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1h }")
    async with WebhookReceiver() as receiver:
        options = ServeAuditOptions(every=3600.0, webhook=receiver.url)
        serve = await harness.start(audit=options)
        foreign = await post(harness, STRANGER, 5000)
        await serve.audit.run_once()
        assert [e["tx_id"] for e in receiver.take()] == [foreign]
        found_at = serve.audit.status()["findings"][0]["found_at"]
        await harness.stop()
        restarted = await harness.start(audit=options)
        await restarted.audit.run_once()
        assert receiver.take() == []  # read back from the ledger: posted already
        assert restarted.audit.status()["findings"][0]["found_at"] == found_at


async def test_a_webhook_that_fails_is_tried_again_at_the_next_audit(
    harness: ServeHarness,
) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1h }")
    async with WebhookReceiver() as receiver:
        down = receiver.url.replace("/hook", "/nowhere")  # answers 404: not delivered
        serve = await harness.start(audit=ServeAuditOptions(webhook=down))
        foreign = await post(harness, STRANGER, 6000)
        await serve.audit.run_once()
        assert receiver.take() == []
        serve.audit.options = ServeAuditOptions(webhook=receiver.url)  # back up
        await serve.audit.run_once()
        assert [e["tx_id"] for e in receiver.take()] == [foreign]
