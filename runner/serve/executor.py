"""An APScheduler executor that hands every due slot to serve, late ones included.

APScheduler's own executors drop a run that starts later than ``misfire_grace_time``
(1 s by default) with a log line at most, and call the job without telling it which time
it was scheduled for. Serve needs both: the nominal slot names the run, and a missed slot
must be recorded. So jobs are added with ``misfire_grace_time=None`` and
``coalesce=False`` (every due time arrives here), and this executor passes the list of
due times to the job's function, which returns at once (runs are serve's own tasks).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_EXECUTED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor  # type: ignore[import-untyped]

from runner.ledger import LedgerError

__all__ = ["SlotExecutor"]

log = logging.getLogger("runner.serve")


class SlotExecutor(BaseExecutor):  # type: ignore[misc]
    """Calls ``job.func(*job.args, run_times=[...])``; the function must not block."""

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._eventloop = scheduler._eventloop

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        try:
            job.func(*job.args, **job.kwargs, run_times=run_times)
        except LedgerError as error:  # the ledger cannot be written: it says why, and what to do
            log.error("serve could not record the slots of %s: %s", job.id, error)
        except Exception as error:  # a bug of ours: keep the scheduler alive, say it loudly
            log.exception("serve could not handle the slots of job %s: %s", job.id, error)
        # reported on the next turn of the loop: submit_job counts the instance after this
        event = JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_times[-1])
        self._eventloop.call_soon(self._run_job_success, job.id, [event])
