"""The exactly-once key of a send: ``playbook/run-id/step-id``, built and read only here."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SendKey", "run_id_problem"]

# A run id sits between two '/' in a key, and in file and lock names: no '/', no spaces.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:+-]{0,127}")


def run_id_problem(run_id: str) -> str | None:
    """Why ``run_id`` cannot name a run (its sends' keys would be ambiguous), or None."""
    if _RUN_ID.fullmatch(run_id):
        return None
    return (
        f"run id {run_id[:40]!r}{'…' if len(run_id) > 40 else ''} must be 1-128 characters: "
        "letters, digits and _ . : + - (not starting with one of those four)"
    )


@dataclass(frozen=True)
class SendKey:
    playbook: str
    run_id: str
    step_id: str

    def __str__(self) -> str:
        return f"{self.playbook}/{self.run_id}/{self.step_id}"

    @classmethod
    def parse(cls, text: str) -> SendKey:
        """A key as `history` shows it; raises ValueError for anything else."""
        playbook, sep, rest = text.partition("/")
        run_id, sep2, step_id = rest.partition("/")
        if not (sep and sep2 and playbook and run_id and step_id):
            raise ValueError(f"{text!r} is not a send key (playbook/run-id/step)")
        return cls(playbook, run_id, step_id)
