"""Reload (SIGHUP / --watch): unchanged playbooks keep their next fire, a changed schedule
is rescheduled, a removed playbook goes after its run in flight, an invalid edit keeps the
previous version."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.serve import reloading
from runner.serve.catalog import fingerprint_of
from tests.serve.conftest import SEND, ServeHarness, until, write_playbook


async def test_reload_keeps_swaps_and_removes(harness: ServeHarness) -> None:
    write_playbook(harness.books, "steady", "{ interval: 1h }")
    write_playbook(harness.books, "changing", "{ interval: 1h }")
    gone = write_playbook(harness.books, "gone", "{ interval: 1s }")
    harness.sandbox.add_fault("GET /v1/wallet/balance latency=1.5 times=1")
    serve = await harness.start()
    steady_next = serve.next_fire("steady")
    await until(lambda: serve.states["gone"].task is not None, "gone's run in flight")
    write_playbook(harness.books, "changing", "{ interval: 30m }")
    gone.unlink()
    await serve.reload()
    assert serve.next_fire("steady") == steady_next  # untouched
    changing = serve.next_fire("changing")
    assert changing is not None and changing.minute in (0, 30)
    assert serve.scheduler.get_job("gone") is None  # no new fire
    assert serve.states["gone"].removed  # but its run in flight goes on
    await until(lambda: "gone" not in serve.states, "the run in flight ended")
    assert harness.slots("gone")[-1].outcome == "ok"
    # an invalid edit: the previous version stays
    (harness.books / "steady.yaml").write_text("version: 1\nname: steady\nsteps: [\n")
    await serve.reload()
    assert serve.next_fire("steady") == steady_next
    assert str(harness.books / "steady.yaml") in serve.invalid


async def test_watch_reloads_on_a_file_change(harness: ServeHarness) -> None:
    write_playbook(harness.books, "first", "{ interval: 1h }")
    serve = await harness.start(watch_interval=0.1)
    write_playbook(harness.books, "second", "{ interval: 1h }")
    await until(lambda: "second" in serve.states, "the new playbook")


async def test_a_renamed_file_is_followed_then_an_invalid_edit_of_it_keeps_the_playbook(
    harness: ServeHarness,
) -> None:
    """Reproduction: mv steady.yaml renamed.yaml; SIGHUP; break renamed.yaml; SIGHUP.
    The rename was not noticed (same bytes, same name: the entry kept the old path), so
    the invalid edit of the new file looked like a removal and the playbook was
    unscheduled instead of keeping its previous version."""
    old = write_playbook(harness.books, "steady", "{ interval: 1h }")
    serve = await harness.start()
    steady_next = serve.next_fire("steady")
    new = old.rename(harness.books / "renamed.yaml")
    await serve.reload()
    assert serve.states["steady"].entry.path == new
    new.write_text("version: 1\nname: steady\nsteps: [\n")
    await serve.reload()
    assert not serve.states["steady"].removed
    assert serve.next_fire("steady") == steady_next
    assert str(new) in serve.invalid


async def test_an_invalid_edit_is_not_replaced_by_a_duplicate_of_the_same_name(
    harness: ServeHarness,
) -> None:
    """Reproduction: a.yaml and b.yaml both name 'twin' (b.yaml reported as a duplicate);
    an invalid edit of a.yaml made b.yaml's version the scheduled 'twin' without a word,
    instead of keeping a.yaml's previous version."""
    first = write_playbook(harness.books, "twin", "{ interval: 1h }")
    first = first.rename(harness.books / "a.yaml")
    other = write_playbook(harness.books, "twin", "{ interval: 30m }")
    other = other.rename(harness.books / "b.yaml")
    serve = await harness.start()
    assert serve.states["twin"].entry.path == first
    assert str(other) in serve.invalid
    first.write_text("version: 1\nname: twin\nsteps: [\n")
    await serve.reload()
    assert serve.states["twin"].entry.path == first  # the previous version of a.yaml
    assert str(first) in serve.invalid
    assert "already used by" in serve.invalid[str(other)]


def test_watch_sees_a_same_size_edit_whose_mtime_was_set_back(tmp_path: Path) -> None:
    """Reproduction: an edit of the same size with the old mtime put back (`rsync -a`,
    `cp -p` of a changed file): --watch compared path, mtime and size only and never
    reloaded. The change time and inode are compared too; no file's text is read."""
    path = write_playbook(tmp_path, "steady", "{ interval: 1h }")
    before = path.stat()
    seen = fingerprint_of([tmp_path])
    path.write_text(path.read_text().replace("interval: 1h", "interval: 2h"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert fingerprint_of([tmp_path]) != seen


async def test_an_unreadable_directory_is_reported_and_its_playbooks_stay(
    harness: ServeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reproduction: chmod 000 books/team (a deploy half done, a wrong owner); SIGHUP.
    The walk (Path.rglob) skipped the directory without a word, so its playbooks looked
    removed and were unscheduled; validate said 'valid' for what it could see."""
    team = harness.books / "team"
    team.mkdir()
    write_playbook(team, "payroll", "{ interval: 1h }")
    serve = await harness.start()
    payroll_next = serve.next_fire("payroll")
    real_scandir = os.scandir

    def unreadable(path: Any = ".") -> Any:
        if Path(path) == team:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", unreadable)
    await serve.reload()
    assert not serve.states["payroll"].removed
    assert serve.next_fire("payroll") == payroll_next
    assert "Permission denied" in serve.invalid[str(team)]
    result = CliRunner().invoke(main, ["validate", str(harness.books)])
    assert result.exit_code == 2
    assert f"{team}: cannot read the directory: Permission denied" in result.output


async def test_a_slot_queued_behind_a_removed_playbooks_run_is_recorded_as_removed(
    harness: ServeHarness,
) -> None:
    """Reproduction: overlap: queue, a slot queued behind the run in flight, the file
    removed and reloaded: the queued slot was recorded 'shutdown: serve stopped before it
    could start' while serve went on running."""
    gone = write_playbook(harness.books, "gone", "{ interval: 1s, overlap: queue }")
    harness.sandbox.add_fault("GET /v1/wallet/balance latency=2.5 times=1")
    serve = await harness.start()
    await until(lambda: serve.states["gone"].queued is not None, "a slot queued")
    gone.unlink()
    await serve.reload()
    await until(lambda: "gone" not in serve.states, "the run in flight ended")
    reasons = [s.reason or "" for s in harness.slots("gone") if s.outcome == "skipped"]
    assert any(reason.startswith("removed:") for reason in reasons), reasons
    assert not any(reason.startswith("shutdown") for reason in reasons), reasons


async def test_sighup_follows_a_new_token_in_the_token_file(harness: ServeHarness) -> None:
    """Reproduction: a new token written into --token-file, then SIGHUP: unchanged
    playbooks kept the old session (only edited playbooks were resolved again), so the
    new token was used only after a restart."""
    token_file = harness.tmp_path / "token"
    token_file.write_text(harness.sandbox.token + "\n")
    write_playbook(harness.books, "steady", "{ interval: 1h }")
    launch = dataclasses.replace(harness.options().launch, token_file=token_file)
    serve = await harness.start(launch=launch)
    before = serve.states["steady"].session
    _, fresh = harness.sandbox.create_session()
    token_file.write_text(fresh + "\n")
    await serve.reload()
    assert serve.states["steady"].session is not before
    assert serve.states["steady"].session.token == fresh
    await serve.reload()  # nothing changed: the same session stays
    assert serve.states["steady"].session.token == fresh
    assert list(serve.sessions.values()) == [serve.states["steady"].session]
    await until(lambda: before.closed, "the replaced session's client is closed")


async def test_a_replaced_session_is_closed_only_after_its_send_in_flight(
    harness: ServeHarness,
) -> None:
    """A new token and SIGHUP while a run is inside its send request: the old session's
    client stays open until that run is done (the send is not cut: it is recorded sent
    once), then it is closed; later runs use the new session."""
    token_file = harness.tmp_path / "token"
    token_file.write_text(harness.sandbox.token + "\n")
    write_playbook(harness.books, "sender", "{ interval: 1s, overlap: skip }", SEND)
    harness.sandbox.add_fault("POST /v1/transactions/send latency=1.5 times=1")
    launch = dataclasses.replace(harness.options().launch, token_file=token_file)
    serve = await harness.start(launch=launch)
    before = serve.states["sender"].session
    await until(lambda: serve.states["sender"].task is not None, "a run in flight")
    await asyncio.sleep(0.3)  # inside the slow send request
    _, fresh = harness.sandbox.create_session()
    token_file.write_text(fresh + "\n")
    await serve.reload()
    assert serve.states["sender"].session is not before
    assert before not in serve.sessions.values()
    await asyncio.sleep(0.2)  # a close, had it been started, would be done by now
    assert serve.states["sender"].task is not None  # the run is still sending through it
    assert not before.closed
    await until(lambda: before.closed, "closed once the run ended", 15)
    first = harness.slots("sender")[0]
    assert first.outcome == "ok", first
    sends = serve.ledger.sends(playbook="sender")
    assert sends[0].state.value == "accepted"
    assert harness.sandbox.transaction_count() == len(sends)  # nothing sent twice
    await until(lambda: len(harness.slots("sender")) >= 2, "a run on the new session")
    assert not serve.states["sender"].session.closed


async def test_reload_parses_off_the_event_loop(
    harness: ServeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The playbooks are read in a worker thread: a slow parse does not hold up the loop
    (here a ticker keeps ticking while the catalog takes 0.5 s), and reloads asked for
    meanwhile join the one waiting its turn."""
    write_playbook(harness.books, "steady", "{ interval: 1h }")
    serve = await harness.start()
    real = reloading.load_catalog
    threads: list[str] = []

    def slow(paths: Any) -> Any:
        threads.append(threading.current_thread().name)
        time.sleep(0.5)
        return real(paths)

    monkeypatch.setattr(reloading, "load_catalog", slow)
    write_playbook(harness.books, "second", "{ interval: 1h }")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        first = serve.reload()
        await asyncio.sleep(0)  # the first one is reading now
        second, third = serve.reload(), serve.reload()
        assert second is third and second is not first
        await asyncio.gather(first, second)
    finally:
        ticking.cancel()
    assert "second" in serve.states
    assert threading.main_thread().name not in threads and len(threads) == 2
    assert ticks >= 30  # about 100 in a second; a blocked loop would give ~0
