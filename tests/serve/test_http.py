"""--http: /-/healthy, /-/ready, /metrics (parsed by prometheus-client), /status, and
`waiaas-run status`."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from runner.client import decode_token_claims
from runner.serve.http import HttpEndpoints
from runner.serve.status import render_status
from tests.serve.conftest import SEND, ServeHarness, until, write_playbook

REQUIRED = {
    "waiaas_runner_runs",
    "waiaas_runner_run_duration_seconds",
    "waiaas_runner_last_success_timestamp_seconds",
    "waiaas_runner_next_run_timestamp_seconds",
    "waiaas_runner_sends",
    "waiaas_runner_slots_skipped",
    "waiaas_runner_rate_limited",
    "waiaas_runner_heartbeat_timestamp_seconds",
}


async def test_endpoints_metrics_and_status(harness: ServeHarness) -> None:
    write_playbook(harness.books, "reader", "{ interval: 1s }")
    write_playbook(harness.books, "sender", "{ interval: 1s }", SEND)
    serve = await harness.start()
    assert len(serve.sessions) == 1  # runs that share a session share one client
    endpoints = HttpEndpoints(serve, "127.0.0.1", 0)
    await endpoints.start()
    base = f"http://127.0.0.1:{endpoints.port}"
    try:
        await until(lambda: any(s.outcome == "ok" for s in harness.slots("sender")), "a send")
        await asyncio.sleep(1.1)  # one watchdog tick: the heartbeat is set
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/-/healthy")).status_code == 200
            ready = await http.get("/-/ready")
            assert ready.status_code == 200, ready.text
            metrics = await http.get("/metrics")
            status = (await http.get("/status")).json()
        families = {f.name: f for f in text_string_to_metric_families(metrics.text)}
        assert set(families) >= REQUIRED
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in families.values()
            for s in family.samples
        }
        assert samples[("waiaas_runner_runs_total", (("outcome", "ok"), ("playbook", "sender")))]
        assert samples[("waiaas_runner_sends_total", (("outcome", "sent"), ("playbook", "sender")))]
        assert samples[("waiaas_runner_heartbeat_timestamp_seconds", ())] > 0
        assert samples[("waiaas_runner_next_run_timestamp_seconds", (("playbook", "reader"),))]
        assert samples[("waiaas_runner_rate_limited_total", ())] == 0
        assert {book["name"] for book in status["playbooks"]} == {"reader", "sender"}
        assert status["sends_needing_attention"] == []
        reader = next(b for b in status["playbooks"] if b["name"] == "reader")
        assert reader["schedule"] == "every 1s" and reader["next_fire"].endswith("Z")
        # the same for a person, from another process
        shown = await _status_command("--http", f"127.0.0.1:{endpoints.port}")
        assert "reader" in shown and "sender" in shown and "no send needs a person" in shown
        as_json = json.loads(await _status_command("--http", base, "--json"))
        assert as_json["serve"]["rate_limited"] == 0
        # the daemon gone: not ready (503), still healthy
        await harness.sandbox.close()
        endpoints._daemon_ok = (0.0, None)  # skip the readiness cache
        async with httpx.AsyncClient(base_url=base) as http:
            not_ready = await http.get("/-/ready")
            assert not_ready.status_code == 503
            assert "unreachable" in not_ready.json()["problems"][0]
            assert (await http.get("/-/healthy")).status_code == 200
    finally:
        await harness.stop()
        await endpoints.close()
    offline = await _status_command("--state", str(harness.state))
    assert "sender" in offline


async def _status_command(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "runner",
        "status",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_a_revoked_session_is_said_once_and_makes_serve_not_ready(
    harness: ServeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Reproduction: the session revoked on the daemon (every answer 401): each fire
    logged its failed step, but /-/ready stayed 200 (the daemon's /health needs no token)
    and /status showed nothing wrong with the session: a probe never saw it."""
    write_playbook(harness.books, "reader", "{ interval: 1s }")
    serve = await harness.start()
    endpoints = HttpEndpoints(serve, "127.0.0.1", 0)
    await endpoints.start()
    try:
        await until(lambda: any(s.outcome == "ok" for s in harness.slots("reader")), "a run")
        caplog.set_level(logging.INFO, logger="runner")
        harness.sandbox.revoke_session(decode_token_claims(harness.sandbox.token).session_id)
        await until(
            lambda: sum(s.outcome == "failed" for s in harness.slots("reader")) >= 2,
            "two refused runs",
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{endpoints.port}") as http:
            ready = await http.get("/-/ready")
            status = (await http.get("/status")).json()
        assert ready.status_code == 503
        assert any("refuses the session token" in p for p in ready.json()["problems"])
        (session,) = status["serve"]["sessions"]
        assert session["token_refused"].startswith("HTTP 401")
        assert "SESSION TOKEN REFUSED" in render_status(status)
        said = [r for r in caplog.records if "refused the session token" in r.getMessage()]
        assert len(said) == 1 and said[0].levelno == logging.ERROR  # once, not per run
        assert all(harness.sandbox.token[12:] not in r.getMessage() for r in caplog.records)
    finally:
        await endpoints.close()
