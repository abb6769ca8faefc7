"""Running example command lines as a user's shell would, against a sandbox."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.cli.run import command as run_command

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin: waiaas-run, pytest


@dataclass
class Shell:
    """Runs a command line with bash in a scratch directory."""

    home: Path

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "LANG": "C.UTF-8",
            **(extra or {}),
        }

    async def run(
        self, command: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            shutil.which("bash") or "/bin/bash",
            "-eo",
            "pipefail",
            "-c",
            command,
            cwd=cwd or self.home,
            env=self.environ(env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode is not None
        return process.returncode, out.decode()


def replace_all(text: str, replacements: Mapping[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"{old!r} is not in {text!r}"
        text = text.replace(old, new)
    return text


def scheduled_for_supported() -> bool:
    """`waiaas-run run --scheduled-for` comes with serve mode (issue 11)."""
    return any("--scheduled-for" in getattr(p, "opts", ()) for p in run_command.params)


needs_scheduled_for = pytest.mark.skipif(
    not scheduled_for_supported(),
    reason="waiaas-run run --scheduled-for is not in this build yet (serve, issue 11)",
)
