"""The exactly-once key of a send: ``playbook/run-id/step-id``, built and read only here."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SendKey"]


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
