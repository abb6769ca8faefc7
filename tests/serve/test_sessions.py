"""A finite session is renewed inside the daemon's window and written back to its file."""

from __future__ import annotations

import asyncio
import errno
import logging
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest

from runner.client import WAIaaSClient, decode_token_claims
from runner.sandbox import Clock, Sandbox
from runner.serve.budget import Budget, DaemonLimits
from runner.serve.sessions import Session, write_token_file
from tests.exactly_once.conftest import fast_fixture
from tests.serve.conftest import until


def test_token_file_is_replaced_atomically_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("old\n")
    path.chmod(0o644)
    write_token_file(path, "wai_sess_new")
    assert path.read_text() == "wai_sess_new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["token"]  # no temporary left behind


async def test_a_finite_token_is_renewed_in_its_window_and_written_back(tmp_path: Path) -> None:
    clock = Clock()
    async with Sandbox(port=0, fixture=fast_fixture(), clock=clock) as sandbox:
        _, token = sandbox.create_session(ttl=300)
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n")
        issued = decode_token_claims(token)
        renewed_at: list[float] = []

        async def sandbox_time_passes(seconds: float) -> None:
            if seconds > 0:
                sandbox.advance(seconds)  # the keeper waits in sandbox time, not real time
            await asyncio.sleep(0)

        session = Session(
            sandbox.url,
            token,
            token_file,
            Budget(DaemonLimits()),
            clock=clock,
            sleep=sandbox_time_passes,
            on_renewal=lambda outcome: renewed_at.append(clock()),
        )
        session.start()
        try:
            await until(lambda: len(renewed_at) >= 2, "two renewals")
        finally:
            await session.close()
        first = renewed_at[0] - issued.issued_at
        assert 150 <= first < 300  # inside the daemon's window: from 50 % of the TTL
        written = token_file.read_text().strip()
        assert written == session.token != token
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert decode_token_claims(written).expires_at > issued.expires_at  # type: ignore[operator]
        async with WAIaaSClient(sandbox.url, written) as client:
            assert (await client.get_connect_info()).wallets


async def test_a_renewal_failure_is_reported_loudly_long_before_expiry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    async with Sandbox(port=0, fixture=fast_fixture(), clock=clock) as sandbox:
        session_id, token = sandbox.create_session(ttl=3600)
        sandbox.revoke_session(session_id)
        outcomes: list[str] = []

        async def sandbox_time_passes(seconds: float) -> None:
            if seconds > 0:
                sandbox.advance(seconds)
            await asyncio.sleep(0)

        caplog.set_level(logging.ERROR, logger="runner")
        session = Session(
            sandbox.url,
            token,
            None,
            Budget(DaemonLimits()),
            clock=clock,
            sleep=sandbox_time_passes,
            on_renewal=outcomes.append,
        )
        session.start()
        try:
            await until(lambda: outcomes == ["failed"], "the failure")
        finally:
            await session.close()
        assert session.renewal_error and "SESSION_REVOKED" in session.renewal_error
        failure = next(r for r in caplog.records if "session renewal failed" in r.getMessage())
        assert "expires in" in failure.getMessage()
        assert session.expires_at is not None and session.expires_at - clock() > 1000


async def _renew_once(
    tmp_path: Path, token_file: Path, outcomes: list[str]
) -> tuple[Session, str, str]:
    """A 300 s session renewed once in sandbox time: (session, old token, what the file holds)."""
    clock = Clock()
    async with Sandbox(port=0, fixture=fast_fixture(), clock=clock) as sandbox:
        _, token = sandbox.create_session(ttl=300)
        token_file.write_text(token + "\n")

        async def sandbox_time_passes(seconds: float) -> None:
            if seconds > 0:
                sandbox.advance(seconds)
            await asyncio.sleep(0)

        session = Session(
            sandbox.url,
            token,
            token_file,
            Budget(DaemonLimits()),
            clock=clock,
            sleep=sandbox_time_passes,
            on_renewal=outcomes.append,
        )
        session.start()
        try:
            await until(lambda: bool(outcomes), "a renewal")
        finally:
            await session.close()
    return session, token, token_file.read_text().strip()


async def test_a_renewed_token_that_cannot_be_written_back_is_reported_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Reproduction: the token file's directory refuses the temporary file (read-only
    mount, systemd LoadCredential=). Before, one log line said so and /status, the metric
    (outcome "ok") and the session's renewal_error said all was well."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    real_mkstemp = tempfile.mkstemp

    def read_only_dir(*args: Any, **kwargs: Any) -> tuple[int, str]:
        if Path(kwargs.get("dir") or ".").resolve() == secrets_dir.resolve():
            raise PermissionError(errno.EROFS, "Read-only file system")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", read_only_dir)
    caplog.set_level(logging.ERROR, logger="runner")
    outcomes: list[str] = []
    session, old, on_disk = await _renew_once(tmp_path, secrets_dir / "token", outcomes)
    assert outcomes and set(outcomes) == {"write_failed"}
    assert on_disk == old  # the file is untouched: not half written, not emptied
    assert session.token != old  # the renewed token is kept in memory
    assert session.renewal_error and "could not be written" in session.renewal_error
    assert "Read-only file system" in session.renewal_error
    assert any("could not be written" in r.getMessage() for r in caplog.records)
    assert all(session.token not in r.getMessage() for r in caplog.records)


async def test_a_symlinked_token_file_is_updated_where_it_lives(tmp_path: Path) -> None:
    """Reproduction: token -> store/token. The renewed token replaced the link with a
    plain file beside it and the linked file kept the old token."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "token").write_text("placeholder\n")
    link = tmp_path / "token"
    link.symlink_to(store / "token")
    outcomes: list[str] = []
    session, old, on_disk = await _renew_once(tmp_path, link, outcomes)
    assert outcomes and set(outcomes) == {"ok"}
    assert link.is_symlink()
    assert on_disk == (store / "token").read_text().strip() == session.token != old
    assert stat.S_IMODE((store / "token").stat().st_mode) == 0o600


async def test_a_token_file_changed_by_someone_else_is_not_overwritten_by_a_renewal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Reproduction: an operator puts a new token into the token file while serve runs
    (the old session nears its absolute lifetime); serve's renewal of the old session
    then replaced the file with the old session's token: the new token was lost."""
    clock = Clock()
    async with Sandbox(port=0, fixture=fast_fixture(), clock=clock) as sandbox:
        _, token = sandbox.create_session(ttl=300)
        _, operators = sandbox.create_session()
        token_file = tmp_path / "token"
        token_file.write_text(token + "\n")
        outcomes: list[str] = []

        async def operator_acts_then_time_passes(seconds: float) -> None:
            if token_file.read_text().strip() == token:
                token_file.write_text(operators + "\n")
            if seconds > 0:
                sandbox.advance(seconds)
            await asyncio.sleep(0)

        caplog.set_level(logging.ERROR, logger="runner")
        session = Session(
            sandbox.url,
            token,
            token_file,
            Budget(DaemonLimits()),
            clock=clock,
            sleep=operator_acts_then_time_passes,
            on_renewal=outcomes.append,
        )
        session.start()
        try:
            await until(lambda: bool(outcomes), "a renewal")
        finally:
            await session.close()
    assert token_file.read_text().strip() == operators  # kept
    assert outcomes[0] == "write_failed"
    assert session.renewal_error and "was changed since serve read it" in session.renewal_error
    assert all(operators[12:] not in r.getMessage() for r in caplog.records)
