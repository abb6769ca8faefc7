"""`waiaas-run sandbox` as a user runs it: a real process, its JSON line, real HTTP, signals."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from runner.cli.sandbox import command

RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready, "the sandbox printed nothing within 15 s"
        yield process, json.loads(process.stdout.readline())
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _stop(process: subprocess.Popen[str], signum: int) -> int:
    process.send_signal(signum)
    return process.wait(timeout=10)


def test_prints_the_ready_line_serves_every_endpoint_and_stops_on_sigterm() -> None:
    with running() as (process, line):
        assert list(line) == ["url", "token", "session_id", "wallets"]
        assert line["token"].startswith("wai_sess_")
        assert {"id", "chain", "network", "address"} <= set(line["wallets"][0])
        treasury = line["wallets"][0]["id"]
        headers = {"Authorization": f"Bearer {line['token']}"}
        with httpx.Client(base_url=line["url"], headers=headers) as client:
            query = {"walletId": treasury, "network": "ethereum-sepolia"}
            for path, params in [
                ("/health", {}),
                ("/v1/connect-info", {}),
                ("/v1/wallet/address", {"walletId": treasury}),
                ("/v1/wallet/balance", query),
                ("/v1/wallet/assets", query),
                ("/v1/wallet/balance", {"walletId": treasury, "network": "all"}),
                ("/v1/transactions", {"walletId": treasury}),
                ("/v1/transactions/pending", {"walletId": treasury}),
            ]:
                response = client.get(path, params=params)
                assert response.status_code == 200, (path, response.text)
                assert response.headers["X-WAIaaS-Sandbox"] == "1"
            body = {
                "walletId": treasury,
                "type": "TRANSFER",
                "to": RECIPIENT,
                "amount": "200000000000000000",
                "network": "ethereum-sepolia",
            }
            assert client.post("/v1/transactions/simulate", json=body).status_code == 200
            sent = client.post("/v1/transactions/send", json=body)
            assert sent.status_code == 201 and sent.json()["status"] == "PENDING"
            tx_id = sent.json()["id"]
            assert client.get(f"/v1/transactions/{tx_id}").status_code == 200
            assert client.post(f"/v1/transactions/{tx_id}/cancel").status_code in (200, 409)
            renew = client.put(f"/v1/sessions/{line['session_id']}/renew")
            assert renew.json()["code"] == "RENEWAL_NOT_REQUIRED"  # the default is unlimited
        assert _stop(process, signal.SIGTERM) == 0


def test_approve_and_reject_a_running_sandbox() -> None:
    with running() as (process, line):
        treasury = line["wallets"][0]["id"]
        headers = {"Authorization": f"Bearer {line['token']}"}
        with httpx.Client(base_url=line["url"], headers=headers) as client:
            body = {
                "walletId": treasury,
                "type": "TRANSFER",
                "to": RECIPIENT,
                "amount": "500000000000000000",
                "network": "ethereum-sepolia",
            }
            first = client.post("/v1/transactions/send", json=body).json()["id"]
            second = client.post("/v1/transactions/send", json=body).json()["id"]
            for tx_id in (first, second):  # wait for QUEUED (APPROVAL) without sleeping blind
                while client.get(f"/v1/transactions/{tx_id}").json()["status"] == "PENDING":
                    select.select([], [], [], 0.05)
        cli = CliRunner()
        approved = cli.invoke(command, ["--approve", first, "--url", line["url"]])
        assert approved.exit_code == 0 and json.loads(approved.output)["status"] == "EXECUTING"
        rejected = cli.invoke(command, ["--reject", second, "--url", line["url"]])
        assert rejected.exit_code == 0 and json.loads(rejected.output)["status"] == "CANCELLED"
        again = cli.invoke(command, ["--reject", second, "--url", line["url"]])
        assert again.exit_code == 1 and "cannot reject" in again.output
        assert _stop(process, signal.SIGINT) == 0


def test_state_file_keeps_the_session_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    with running("--state", str(state)) as (process, first):
        _stop(process, signal.SIGTERM)
    with running("--state", str(state)) as (process, second):
        assert (second["token"], second["wallets"]) == (first["token"], first["wallets"])
        _stop(process, signal.SIGTERM)


def test_bad_fixture_or_fault_is_a_usage_error(tmp_path: Path) -> None:
    fixture = tmp_path / "fixture.yaml"
    fixture.write_text(
        "wallets:\n  - name: x\n    chain: ethereum\n    address: nope\n"
        "sessions: [{wallets: [x]}]\n"
    )
    result = CliRunner().invoke(command, ["--port", "0", "--fixture", str(fixture)])
    assert result.exit_code == 2
    assert "is not a ethereum address" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(command, ["--port", "0", "--fault", "GET /health explode"])
    assert result.exit_code == 2 and "cannot read 'explode'" in result.output
    missing = CliRunner().invoke(command, ["--fixture", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "cannot read the fixture" in missing.output


def test_port_in_use_or_bad_state_file_is_a_clear_error(tmp_path: Path) -> None:
    with running() as (process, line):
        port = line["url"].rsplit(":", 1)[1]
        busy = CliRunner().invoke(command, ["--port", port])
        assert busy.exit_code == 2 and "cannot listen on 127.0.0.1" in busy.output
        _stop(process, signal.SIGTERM)
    bad_state = CliRunner().invoke(
        command, ["--port", "0", "--state", str(tmp_path / "missing" / "state.sqlite3")]
    )
    assert bad_state.exit_code == 2 and "cannot use the state file" in bad_state.output
