"""Reload (SIGHUP / --watch): the playbooks read again off the loop, then swapped in.

Unchanged playbooks keep their next fire; a changed one is swapped (rescheduled if its
schedule changed); an invalid edit keeps the previous version; a renamed file is
followed; a removed playbook goes after its run in flight; a session no playbook uses any
more is retired (closed once the runs using it are done).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from pathlib import Path

from runner.ledger import LedgerError
from runner.serve.catalog import Catalog, Entry, fingerprint_of, load_catalog
from runner.serve.engine_adapter import Connection, UsageError, connection_for
from runner.serve.service import PlaybookState, ServeCore, ServeOptions
from runner.serve.sessions import Session
from runner.serve.triggers import describe

__all__ = ["Reloading"]

log = logging.getLogger("runner.serve")


class Reloading(ServeCore):
    """Reload, on top of firing and running; ``Serve`` provides the hooks it calls."""

    def __init__(self, options: ServeOptions) -> None:
        super().__init__(options)
        self.invalid: dict[str, str] = {}
        self._reload_lock = asyncio.Lock()
        self._reloads: set[asyncio.Task[None]] = set()
        self._waiting_reload: asyncio.Task[None] | None = None
        self._retired: set[Session] = set()  # closed (or closing) once their runs end
        # during a reload, what each playbook file connects with, resolved in the thread
        self._resolved: dict[tuple[Path, str], Connection | UsageError] = {}

    # -- hooks (Serve) ---------------------------------------------------------------------

    def _report(self, catalog: Catalog) -> None:
        raise NotImplementedError

    def _add(self, entry: Entry) -> PlaybookState | None:
        raise NotImplementedError

    def _session_for(self, entry: Entry) -> Session:
        raise NotImplementedError

    def _schedule_with_recovery(self, state: PlaybookState) -> None:
        raise NotImplementedError

    def _report_demand(self) -> None:
        raise NotImplementedError

    def _connection_for(self, entry: Entry) -> Connection:
        """The daemon and token of ``entry``: as resolved in the reload's thread, if it was."""
        connection = self._resolved.get((entry.path, entry.fingerprint))
        if isinstance(connection, UsageError):
            raise connection
        if connection is None:
            connection = connection_for(entry.playbook, entry.path, self.options.launch)
        return connection

    # -- reload ----------------------------------------------------------------------------

    def reload(self) -> Awaitable[None]:
        """SIGHUP / --watch: read the playbooks again in a worker thread (parsing thousands
        of them took the loop, and every slot due meanwhile, for seconds), then apply what
        was read on the loop. Reloads go one after another; a request made while one waits
        its turn joins it. Returns what to await for the reload to be applied."""
        if self.stopping or self.stop_event.is_set():  # a SIGHUP after SIGTERM: stopping
            done = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        if self._waiting_reload is not None:
            return self._waiting_reload  # it reads the files after this request
        task = asyncio.create_task(self._reload_in_turn(), name="serve reload")
        self._waiting_reload = task
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)
        return task

    async def _reload_in_turn(self) -> None:
        async with self._reload_lock:
            self._waiting_reload = None  # from here on, a new request reads the files again
            catalog, self._resolved = await asyncio.to_thread(self._read)
            try:
                if not (self.stopping or self.stop_event.is_set()):
                    self._apply(catalog)
            except LedgerError as error:  # recording a new playbook's missed slots failed
                log.error("reload: %s", error)
            finally:
                self._resolved = {}

    def _read(self) -> tuple[Catalog, dict[tuple[Path, str], Connection | UsageError]]:
        """In the worker thread: the playbooks, and the daemon and token each would use
        (rendering them and reading token files was most of what was left on the loop)."""
        catalog = load_catalog(self.options.paths)
        resolved: dict[tuple[Path, str], Connection | UsageError] = {}
        for entry in catalog.entries.values():
            try:
                connection = connection_for(entry.playbook, entry.path, self.options.launch)
            except UsageError as error:
                resolved[entry.path, entry.fingerprint] = error
            else:
                resolved[entry.path, entry.fingerprint] = connection
        return catalog, resolved

    def _apply(self, catalog: Catalog) -> None:
        self._report(catalog)
        for name, state in list(self.states.items()):
            new = catalog.entries.get(name)
            if catalog.unsure(state.entry.path) and (new is None or new.path != state.entry.path):
                # the file it came from has an invalid edit: that version stays, even when
                # another file with the same name is valid now (a duplicate never takes over)
                log.error("%s: the edit is invalid; its previous version stays scheduled", name)
                if new is not None:
                    self.invalid[str(new.path)] = (
                        f"{new.path}: playbook name {name!r} is already used by "
                        f"{state.entry.path} (its previous version, kept while the file is "
                        "invalid); names identify runs in the ledger, so each must be unique"
                    )
                    log.error("invalid playbook, not scheduled:\n%s", self.invalid[str(new.path)])
                continue
            if new is None:
                if not state.removed:
                    self._remove(state)
            elif state.removed:  # back before its last run ended
                state.removed = False
                self._replace(state, new)
                self.schedule(state)
            elif new.fingerprint != state.entry.fingerprint or new.path != state.entry.path:
                self._replace(state, new)  # edited, or the same playbook moved (renamed)
            else:
                self._follow_token(state)
        for name, entry in catalog.entries.items():
            if name not in self.states and self._add(entry) is not None:
                self._schedule_with_recovery(self.states[name])
                log.info("scheduled %s (%s)", name, describe(entry.schedule))
        for session in self.sessions.values():
            session.transport.forget_wallets()  # wallets may have been renamed meanwhile
        self._retire_unused_sessions()
        self.metrics.playbooks.set(len([s for s in self.states.values() if not s.removed]))
        self._report_demand()
        log.info("reloaded: %d playbook(s) scheduled", len(self.states))

    def _retire_unused_sessions(self) -> None:
        """A session no playbook uses any more (its token changed, its playbooks were
        edited onto another daemon or removed) stops renewing now and closes its
        connections once the runs still using it are done (a send is never cut)."""
        in_use = {id(state.session) for state in self.states.values()}
        for key, session in list(self.sessions.items()):
            if id(session) not in in_use:
                del self.sessions[key]
                self._retired.add(session)
                session.retire()
                log.info("the session of %s with the previous token is closed", session.url)

    def _remove(self, state: PlaybookState) -> None:
        name = state.entry.name
        with contextlib.suppress(Exception):
            self.scheduler.remove_job(name)
        state.removed = True
        if state.task is None:
            self.forget(name)
        log.info("%s was removed; unscheduled (after its run in flight, if any)", name)

    def _replace(self, state: PlaybookState, new: Entry) -> None:
        same_schedule = new.schedule == state.entry.schedule
        try:
            session = self._session_for(new)
        except UsageError as error:
            log.error("%s: %s; its previous version stays scheduled", new.path, error)
            return
        state.entry, state.session, state.requests_per_run = new, session, None
        state.fires_per_minute = None
        if not same_schedule:
            self.schedule(state)  # replace_existing: the new trigger decides the next fire
        log.info("%s changed; %s", new.name, "same schedule" if same_schedule else "rescheduled")

    def _follow_token(self, state: PlaybookState) -> None:
        """An unchanged playbook whose token changed (a new token put in its token file):
        its runs move to that session; the old one no longer writes to the file."""
        try:
            session = self._session_for(state.entry)
        except UsageError as error:
            log.error("%s: %s; it keeps its current session", state.entry.path, error)
            return
        if session is not state.session:
            state.session = session
            log.info("%s: its session token changed; runs use the new one", state.entry.name)

    async def _watch(self, seen: str) -> None:
        interval = self.options.watch_interval or 2.0
        while not self.stopping:
            await self.options.sleep(interval)
            # in a thread: the walk of a large directory must not hold up the loop
            current = await asyncio.to_thread(fingerprint_of, self.options.paths)
            if current != seen:
                seen = current
                log.info("playbook files changed; reloading")
                await self.reload()
