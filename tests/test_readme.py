"""The README's shell blocks marked ```bash runnable run as written, in order, in a scratch
copy of the repository, with the virtual environment's bin on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.examples.conftest import scheduled_for_supported

ROOT = Path(__file__).resolve().parent.parent
RUNNABLE = re.compile(r"^```bash runnable\n(.*?)^```$", re.S | re.M)


def runnable_blocks() -> list[str]:
    return RUNNABLE.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_tour_is_runnable() -> None:
    assert len(runnable_blocks()) >= 6


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    for name in ("playbooks", "examples"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


@pytest.mark.parametrize("index", range(len(runnable_blocks())))
def test_runnable_block(scratch: Path, index: int) -> None:
    block = runnable_blocks()[index]
    if "--scheduled-for" in block and not scheduled_for_supported():
        pytest.skip("waiaas-run run --scheduled-for is not in this build yet (serve, issue 11)")
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(scratch),
        "XDG_CONFIG_HOME": str(scratch / ".config"),
        "XDG_DATA_HOME": str(scratch / ".local" / "share"),
        "LANG": "C.UTF-8",
    }
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", block],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"block {index}:\n{block}\n{result.stdout}{result.stderr}"
