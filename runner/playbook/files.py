"""Which files under a path are playbooks: one walk for validate, test and serve.

A directory is searched recursively for *.yaml and *.yml, hidden directories (.git, .venv)
skipped. Scenario files (``<name>.test.yaml``) sit beside their playbooks and are not
playbooks. Other tools' YAML that lives beside playbooks (a Kubernetes manifest, a CI
workflow in examples/ or a deploy repository) is recognised by top-level keys no playbook
can have, and reported as skipped rather than as an invalid playbook. A file named
directly is always taken as it is.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "MAX_FILE_BYTES",
    "SCENARIO_SUFFIXES",
    "YAML_SUFFIXES",
    "FoundPlaybooks",
    "find_playbooks",
    "is_scenario",
    "other_format",
    "read_text_file",
    "yaml_files_in",
]

YAML_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 1_000_000  # a playbook, scenario, config or token file is far smaller
SCENARIO_SUFFIXES = (".test.yaml", ".test.yml")

# (what it is, top-level keys that must all be present)
_OTHER_FORMATS = (
    ("a Kubernetes manifest", ("apiVersion", "kind")),
    ("a GitHub Actions workflow", ("on", "jobs")),
    ("a pre-commit configuration", ("repos",)),
)


@dataclass
class FoundPlaybooks:
    files: list[Path] = field(default_factory=list)
    skipped: dict[Path, str] = field(default_factory=dict)  # file -> what it is instead


def is_scenario(path: Path) -> bool:
    return path.name.endswith(SCENARIO_SUFFIXES)


def yaml_files_in(directory: Path) -> list[Path]:
    """Every *.yaml / *.yml file below ``directory``, sorted, outside hidden directories."""
    return sorted(
        candidate
        for candidate in directory.rglob("*")
        if candidate.suffix in YAML_SUFFIXES
        and candidate.is_file()
        and not any(part.startswith(".") for part in candidate.relative_to(directory).parts)
    )


def read_text_file(
    path: Path, *, encoding: str = "utf-8", errors: str = "strict", limit: int = MAX_FILE_BYTES
) -> str:
    """The text of a regular file of at most ``limit`` bytes.

    Every file the runner reads that a person names goes through here: a device, FIFO or
    socket named as a playbook (``/dev/zero``, a pipe) would never end or never answer, so
    it is refused before a byte is read, as is a file larger than ``limit``. Raises
    OSError (its ``strerror`` says why) and UnicodeDecodeError.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a device, pipe or socket)")
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit:,} bytes")
    return data.decode(encoding, errors)


def other_format(file: Path) -> str | None:
    """What ``file`` is when it is recognisably another tool's YAML, else None."""
    try:
        text = read_text_file(file, errors="replace")
    except OSError:
        return None  # loading it reports the unreadable file
    for what, keys in _OTHER_FORMATS:
        if all(re.search(rf"^{key}:", text, re.MULTILINE) for key in keys):
            return what
    return None


def find_playbooks(paths: Iterable[Path]) -> FoundPlaybooks:
    found = FoundPlaybooks()
    for path in paths:
        if not path.is_dir():
            found.files.append(path)
            continue
        for candidate in yaml_files_in(path):
            if is_scenario(candidate):
                continue
            what = other_format(candidate)
            if what is None:
                found.files.append(candidate)
            else:
                found.skipped[candidate] = what
    found.files = list(dict.fromkeys(found.files))
    return found
