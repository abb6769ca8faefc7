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
    "INPUT_FILE_LIMIT",
    "SCENARIO_SUFFIXES",
    "YAML_SUFFIXES",
    "FoundPlaybooks",
    "find_playbooks",
    "is_scenario",
    "other_format",
    "read_input_file",
    "walk_yaml",
    "yaml_files_in",
]

YAML_SUFFIXES = (".yaml", ".yml")
SCENARIO_SUFFIXES = (".test.yaml", ".test.yml")

# A playbook, a scenario, a config or a token file is far smaller than this; a bigger
# "file" is a mistake (a log, a disk image, /dev/zero behind a symlink), not something
# to read into memory.
INPUT_FILE_LIMIT = 1 << 20

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
    unreadable: dict[Path, str] = field(default_factory=dict)  # directory -> why


def is_scenario(path: Path) -> bool:
    return path.name.endswith(SCENARIO_SUFFIXES)


def yaml_files_in(directory: Path) -> list[Path]:
    """Every *.yaml / *.yml entry below ``directory`` that is not a directory, sorted,
    outside hidden directories (see :func:`walk_yaml`)."""
    return walk_yaml(directory)[0]


def walk_yaml(directory: Path) -> tuple[list[Path], dict[Path, str]]:
    """``yaml_files_in`` and the directories below ``directory`` that could not be read
    (with why): an unreadable directory is reported, not silently empty (its playbooks
    would look removed). A broken symlink, a FIFO or a device named *.yaml is listed
    too: reading it reports what it is. Symlinked directories are not followed."""
    files: list[Path] = []
    unreadable: dict[Path, str] = {}

    def failed(error: OSError) -> None:
        unreadable[Path(error.filename)] = error.strerror or str(error)

    for folder, subfolders, names in os.walk(directory, onerror=failed):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        base = Path(folder)
        files.extend(
            base / name
            for name in names
            if not name.startswith(".") and Path(name).suffix in YAML_SUFFIXES
        )
    return sorted(files), unreadable


def read_input_file(path: Path, limit: int = INPUT_FILE_LIMIT) -> bytes:
    """The bytes of a file the runner is given to read (playbook, scenario, config, token).

    Only a regular file is read: a FIFO would block the reader (and serve's whole event
    loop, signals included) until something writes to it, and a device such as /dev/zero
    never ends. The file is opened without blocking and checked on the open descriptor, so
    a swap between a check and the read cannot slip one in. Raises ``OSError`` whose
    ``strerror`` says what is wrong (callers already report ``strerror``).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(descriptor, "rb") as file:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise OSError(errno.EISDIR, "is a directory, not a file", str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, socket or device)", str(path))
        data = file.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // 1024} KiB: not such a file", str(path))
    return data


def other_format(file: Path) -> str | None:
    """What ``file`` is when it is recognisably another tool's YAML, else None."""
    try:
        text = read_input_file(file).decode("utf-8", errors="replace")
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
        candidates, unreadable = walk_yaml(path)
        found.unreadable |= unreadable
        for candidate in candidates:
            if is_scenario(candidate):
                continue
            what = other_format(candidate)
            if what is None:
                found.files.append(candidate)
            else:
                found.skipped[candidate] = what
    found.files = _distinct(found.files)
    return found


def _distinct(files: list[Path]) -> list[Path]:
    """Each file once, however it was reached (``books`` and ``/abs/books``, a symlinked
    directory, ``books/../books/a.yaml``): the same file twice is not two playbooks with
    one name. The first route named is kept; a file that cannot be stat'ed is kept as it
    is (reading it reports why)."""
    seen: set[tuple[int, int] | Path] = set()
    distinct: list[Path] = []
    for file in files:
        try:
            info = file.stat()
            identity: tuple[int, int] | Path = (info.st_dev, info.st_ino)
        except OSError:
            identity = file
        if identity not in seen:
            seen.add(identity)
            distinct.append(file)
    return distinct
