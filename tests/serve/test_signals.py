"""`waiaas-run serve` as a real process: SIGKILL mid-slot, SIGTERM mid-send, SIGHUP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from runner.ledger import Ledger, SendState
from runner.ledger.slots import SlotLog
from tests.exactly_once.conftest import dead_port, playbook_text
from tests.exactly_once.processes import Daemon, sandbox_process, wait_until

TWO_SENDS = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
  - id: tip
    send: { from: treasury, to: agent, amount: "0.002 ETH" }
"""
READ = """\
steps:
  - id: look
    balance: { wallet: treasury }
"""


class ServeProcess:
    def __init__(self, daemon: Daemon, tmp_path: Path) -> None:
        self.daemon = daemon
        self.tmp_path = tmp_path
        self.books = tmp_path / "books"
        self.books.mkdir(exist_ok=True)
        self.ledger = tmp_path / "ledger.sqlite3"
        self.port = dead_port()
        self.process: subprocess.Popen[str] | None = None

    def write(self, name: str, schedule: str, body: str) -> Path:
        path = self.books / f"{name}.yaml"
        path.write_text(playbook_text(f"schedule: {schedule}\n{body}", name), encoding="utf-8")
        return path

    def start(self, failpoint: str | None = None) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAIAAS_")}
        env |= {"WAIAAS_SESSION_TOKEN": self.daemon.token, "XDG_CONFIG_HOME": str(self.tmp_path)}
        if failpoint:
            env["WAIAAS_RUNNER_FAILPOINT"] = failpoint
        args = [
            sys.executable, "-m", "runner", "serve", str(self.books),
            "--state", str(self.ledger), "--daemon-url", self.daemon.url,
            "--http", f"127.0.0.1:{self.port}", "--request-timeout", "1s",
            "--drain-timeout", "20s",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        return self.process

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, list[dict[str, Any]]]:
        assert self.process is not None
        self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=60)
        code = self.process.returncode
        self.process = None
        return code, [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]

    def status(self) -> dict[str, Any]:
        answer = httpx.get(f"http://127.0.0.1:{self.port}/status", timeout=5)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def up(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/-/healthy", timeout=1).is_success
        except httpx.HTTPError:
            return False

    def slots(self, name: str) -> list[Any]:
        if not self.ledger.exists():
            return []
        log = SlotLog(self.ledger)
        try:
            return list(reversed(log.history(name, 100)))
        finally:
            log.close()


@contextmanager
def serving(tmp_path: Path) -> Iterator[ServeProcess]:
    with sandbox_process(tmp_path) as daemon:
        serve = ServeProcess(daemon, tmp_path)
        try:
            yield serve
        finally:
            if serve.process is not None:
                serve.process.kill()
                serve.process.communicate(timeout=10)


def test_sigkill_inside_a_slot_then_restart_continues_it_without_a_second_send(
    tmp_path: Path,
) -> None:
    with serving(tmp_path) as serve:
        path = serve.write("payout", "{ interval: 2s }", TWO_SENDS)
        # dies right after the daemon accepted `fund`, before the ledger heard of it
        killed = serve.start(failpoint="after-answer")
        assert killed.wait(timeout=30) == -signal.SIGKILL
        assert serve.daemon.tx_count() == 1
        (interrupted,) = serve.slots("payout")
        assert interrupted.outcome == "running"
        # no new slot for an hour: whatever runs now is the interrupted slot continuing
        path.write_text(path.read_text().replace("interval: 2s", "interval: 1h"))
        serve.start()
        wait_until(lambda: serve.slots("payout")[-1].outcome == "ok", "the slot finished", 30)
        code, lines = serve.stop()
        transactions = serve.daemon.tx_count()
    assert code == 0
    (slot,) = serve.slots("payout")
    assert slot.run_id == interrupted.run_id
    with Ledger(serve.ledger) as ledger:
        sends = {s.step_id: s for s in ledger.sends(playbook="payout")}
    assert sends["fund"].state is SendState.ACCEPTED and "adopted" in (sends["fund"].note or "")
    assert sends["tip"].state is SendState.ACCEPTED
    assert transactions == 2  # fund once (adopted), tip once
    assert any(line.get("outcome") == "continued" for line in lines)


def test_sigterm_during_a_send_drains_to_a_recorded_state_and_exits_0(tmp_path: Path) -> None:
    with serving(tmp_path) as serve:
        serve.write("payout", "{ interval: 1h }", TWO_SENDS)
        # an earlier interrupted slot makes the run start right away
        now = time.time()
        slot = now - now % 3600
        log = SlotLog(serve.ledger)
        log.started("payout", slot, "seeded", 0.0)
        log.close()
        # the daemon creates `fund` and holds its answer for 3 s
        serve.daemon.add_fault(method="POST", path="/v1/transactions/send", hold=3, times=1)
        serve.start()
        wait_until(lambda: serve.daemon.tx_count() == 1, "the send reached the daemon", 30)
        code, lines = serve.stop(signal.SIGTERM)
        assert code == 0, lines
        assert serve.daemon.tx_count() == 1  # tip was not started after the signal
        with Ledger(serve.ledger) as ledger:
            sends = {s.step_id: s for s in ledger.sends(playbook="payout")}
        assert sends["fund"].state is SendState.ACCEPTED and sends["fund"].tx_id
        assert sends["tip"].state is SendState.NOT_SENT
        assert "serve is stopping" in (sends["tip"].note or "")
        assert serve.slots("payout")[-1].outcome == "drained"
        # the next start continues the drained slot: tip is posted once, fund is not again
        serve.start()
        wait_until(lambda: serve.slots("payout")[-1].outcome == "ok", "the slot finished", 30)
        code, _ = serve.stop()
        assert code == 0
        assert serve.daemon.tx_count() == 2


def test_sighup_with_an_invalid_edit_keeps_the_old_schedule(tmp_path: Path) -> None:
    with serving(tmp_path) as serve:
        path = serve.write("reader", "{ interval: 1s }", READ)
        serve.start()
        wait_until(serve.up, "serve answers", 30)
        wait_until(lambda: len(serve.slots("reader")) >= 1, "a first run", 30)
        path.write_text(path.read_text().replace("balance: { wallet: treasury }", "balance: {"))
        assert serve.process is not None
        serve.process.send_signal(signal.SIGHUP)
        wait_until(lambda: str(path) in serve.status()["invalid"], "the reload", 30)
        status = serve.status()
        (book,) = status["playbooks"]
        assert book["name"] == "reader" and book["schedule"] == "every 1s"
        assert f"{path}:" in status["invalid"][str(path)]  # located: file:line:col
        edited_at = time.time()
        wait_until(
            lambda: any(s.slot > edited_at and s.outcome == "ok" for s in serve.slots("reader")),
            "a run of the old version after the edit",
            30,
        )
        # a valid edit takes effect: a second playbook appears on the next SIGHUP
        serve.write("second", "{ interval: 1s }", READ)
        serve.process.send_signal(signal.SIGHUP)
        wait_until(lambda: len(serve.status()["playbooks"]) == 2, "the new playbook", 30)
        code, lines = serve.stop()
    assert code == 0
    assert any("invalid playbook" in line["message"] for line in lines)


def test_sighup_during_start_up_does_not_kill_serve(tmp_path: Path) -> None:
    """Reproduction: `systemctl reload` (SIGHUP) within the first second of a start,
    while serve was still importing and opening the ledger: the default action killed it
    (exit 129, nothing drained, nothing said). SIGHUP is ignored from the moment the
    command is chosen until serve's own handler takes over."""
    with serving(tmp_path) as serve:
        serve.write("reader", "{ interval: 1h }", READ)
        process = serve.start()
        # from the moment the interpreter runs our code (the command chosen: before that
        # is Python's own start-up), while serve imports, opens the ledger, loads
        wait_until(lambda: _ignores_sighup(process.pid), "the serve command chosen", 30)
        for _ in range(5):  # a storm
            process.send_signal(signal.SIGHUP)
            time.sleep(0.05)
        wait_until(lambda: process.poll() is not None or serve.up(), "serve answers", 30)
        assert process.poll() is None, f"serve died with {process.returncode}"
        serve.write("second", "{ interval: 1h }", READ)
        process.send_signal(signal.SIGHUP)  # and once up, a reload is a reload
        wait_until(lambda: len(serve.status()["playbooks"]) == 2, "the reload", 30)
        code, _ = serve.stop()
    assert code == 0


def _ignores_sighup(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = next(line for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(ignored.split()[1], 16) & (1 << (signal.SIGHUP - 1)))
