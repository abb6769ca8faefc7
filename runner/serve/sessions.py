"""One shared connection per daemon session, and keeping a finite session alive.

Runs that use the same daemon and token share one ``Session``: one HTTP pool behind one
paced transport (one request budget), one cached wallet list, and one renewal loop. The
keeper (``runner.client.SessionKeeper``) renews inside the daemon's window (from 50 % of
the TTL); every new token is written back to the token file it came from, atomically and
with mode 0600, so a restart of serve starts from a token that still works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx

from runner.client import (
    ConnectInfo,
    RenewedSession,
    SessionKeeper,
    WAIaaSClient,
    WAIaaSError,
    decode_token_claims,
)
from runner.playbook.files import read_input_file
from runner.serve.budget import Budget, PacedTransport

__all__ = ["Session", "write_token_file"]

log = logging.getLogger("runner.serve")


def write_token_file(path: Path, token: str) -> None:
    """Replace ``path`` with ``token`` atomically: a reader sees the old or the new token,
    never half of one, and the file is never readable by others (0600 from creation).
    A symlinked token file is updated where it lives (the link stays a link)."""
    path = path.resolve()
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(token + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a power cut
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class Session:
    """A daemon URL and token, the pool that talks to it, and its renewal."""

    def __init__(
        self,
        url: str,
        token: str,
        token_file: Path | None,
        budget: Budget,
        *,
        request_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        retry_after_failure: float = 30.0,
        on_renewal: Callable[[str], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.token_file = token_file
        self._on_disk = token  # what the token file held when serve read it
        self.transport = PacedTransport(budget, transport)
        self.http = httpx.AsyncClient(transport=self.transport, timeout=request_timeout)
        # the keeper's own client shares the pool; its token is the session's current one
        self._client = WAIaaSClient(url, token, http_client=self.http, timeout=request_timeout)
        self._clock = clock
        self._sleep = sleep
        self._retry_after_failure = retry_after_failure
        self._on_renewal = on_renewal
        self._task: asyncio.Task[None] | None = None
        self.renewal_error: str | None = None
        self.session_id: str | None = None
        self.expires_at: int | None = None
        # the wallet list parsed, with the transport's cached answer it was parsed from
        self._wallets: tuple[object | None, ConnectInfo] | None = None
        self._runs = 0  # runs holding this session's client (see in_use)
        self._retired = False
        self._closing: asyncio.Task[None] | None = None
        self._read_claims()

    @property
    def token(self) -> str:
        return self._client.session_token

    @property
    def connection(self) -> tuple[str, str]:
        return self.url, self.token

    def _read_claims(self) -> None:
        try:
            claims = decode_token_claims(self.token)
        except ValueError:
            return  # not a JWT we can read: the daemon will say what is wrong with it
        self.session_id, self.expires_at = claims.session_id, claims.expires_at

    async def connect_info(self) -> ConnectInfo:
        """The session's wallet list, parsed once for all its runs; asked again when the
        transport forgot its answer (a reload, an answer saying a wallet is gone)."""
        answer = self.transport.connect_info_answer
        if self._wallets is not None and answer is not None and self._wallets[0] is answer:
            return self._wallets[1]
        info = await self._client.get_connect_info()
        self._wallets = (self.transport.connect_info_answer, info)
        return info

    def start(self) -> None:
        if self.expires_at is None:
            return  # unlimited (or unreadable): nothing to renew
        if self.token_file is not None and not os.access(self.token_file.resolve().parent, os.W_OK):
            log.error(
                "the session token of %s expires at %s and its renewals cannot be written "
                "back: the directory of %s is not writable (serve keeps the renewed token in "
                "memory; a restart after expiry would need a new token)",
                self.url,
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at)),
                self.token_file,
                extra={"fields": {"event": "token_file_not_writable"}},
            )
        if self.token_file is None:
            log.warning(
                "the session token of %s expires at %s and came from the environment: "
                "serve renews it in memory, but a restart after that needs a new token "
                "(give it with --token-file or daemon.token_file to have it written back)",
                self.url,
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at)),
            )
        self._task = asyncio.create_task(self._keep(), name="waiaas-serve-session")

    async def _keep(self) -> None:
        """The keeper, restarted after failures it does not handle itself (the daemon
        unreachable), for as long as the token can still be renewed."""
        while True:
            keeper = SessionKeeper(
                self._client, on_renewed=self._renewed, clock=self._clock, sleep=self._sleep
            )
            try:
                await keeper.run()
            except (WAIaaSError, httpx.HTTPError) as error:
                self._failed(f"{type(error).__name__}: {error}")
            else:
                if keeper.error is None:
                    return  # the session became unlimited
                self._failed(str(keeper.error))
                if not keeper.error.retryable:
                    return  # refused for good (revoked, limit reached): a person must act
            if self.expires_at is not None and self._clock() >= self.expires_at:
                log.error("the session token of %s has expired; runs will fail", self.url)
                return
            await self._sleep(self._retry_after_failure)

    def _failed(self, why: str) -> None:
        self.renewal_error = why
        left = "" if self.expires_at is None else f"{self.expires_at - self._clock():.0f}s"
        log.error(
            "session renewal failed for %s (token expires in %s): %s",
            self.url,
            left or "?",
            why,
            extra={"fields": {"event": "session_renewal_failed"}},
        )
        if self._on_renewal is not None:
            self._on_renewal("failed")

    async def _renewed(self, renewed: RenewedSession) -> None:
        self.renewal_error = None
        self._read_claims()
        if self.token_file is not None:
            problem = self._write_back(self.token_file, renewed.token.get_secret_value())
            if problem is not None:
                # the renewal worked and the token is kept in memory, but the file does not
                # hold it: as loud as a failed renewal (log, /status, metric)
                self.renewal_error = problem
                log.error("%s", problem, extra={"fields": {"event": "token_write_failed"}})
                if self._on_renewal is not None:
                    self._on_renewal("write_failed")
                return
        log.info(
            "session renewed (renewal %d), token valid until %s",
            renewed.renewal_count,
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at or 0)),
        )
        if self._on_renewal is not None:
            self._on_renewal("ok")

    def _write_back(self, path: Path, token: str) -> str | None:
        """Write the renewed ``token`` to ``path`` unless someone else changed the file
        since serve read it (an operator's new token must not be overwritten with the
        renewal of the old session); what went wrong, or None."""
        try:
            current: str | None = read_input_file(path).decode("utf-8-sig").strip()
        except FileNotFoundError:
            current = None  # gone: written again
        except (OSError, UnicodeDecodeError):
            current = self._on_disk  # unreadable now: the write says what is wrong
        if current is not None and current != self._on_disk:
            return (
                f"renewed, but the token file {path} was changed since serve read it: it is "
                "left as it is (SIGHUP makes serve use the token in it); serve keeps the "
                "renewed token in memory until then"
            )
        try:
            write_token_file(path, token)
        except OSError as error:
            return (
                f"renewed, but the new token could not be written to {path} "
                f"({error.strerror or error}); serve keeps it in memory, a restart would "
                "start from the old token"
            )
        self._on_disk = token
        return None

    @contextlib.contextmanager
    def in_use(self) -> Iterator[None]:
        """Held by a run for as long as it may send through this session's client."""
        self._runs += 1
        try:
            yield
        finally:
            self._runs -= 1
            if self._retired and self._runs == 0:
                self._close_soon()

    def retire(self) -> None:
        """Replaced (a new token, a reload): renewing stops now; the client is closed once
        the runs still using it are done, so no request is cut mid-way."""
        self._retired = True
        if self._task is not None:
            self._task.cancel()
        if self._runs == 0:
            self._close_soon()

    def _close_soon(self) -> asyncio.Task[None]:
        if self._closing is None:  # once: a drain may close what a reload began closing
            self._closing = asyncio.create_task(self._shut(), name="waiaas-serve-session-close")
        return self._closing

    @property
    def closed(self) -> bool:
        return self.http.is_closed

    async def close(self) -> None:
        await self._close_soon()

    async def _shut(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.http.aclose()
