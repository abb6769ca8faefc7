"""Named instants where a crash test may kill the runner (SIGKILL, no clean-up at all).

``WAIAAS_RUNNER_FAILPOINT=after-intent waiaas-run ...`` dies right after the send intent
is committed. Only the crash-safety tests set it; unset, a failpoint is one dict lookup.
"""

from __future__ import annotations

import os
import signal

__all__ = ["FAILPOINTS", "failpoint"]

FAILPOINTS = ("before-intent", "after-intent", "after-answer")


def failpoint(name: str) -> None:
    assert name in FAILPOINTS, name
    if os.environ.get("WAIAAS_RUNNER_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
