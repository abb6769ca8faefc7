"""The playbooks serve runs: files and directories, read again on every reload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from runner.playbook import Playbook, PlaybookError
from runner.playbook.files import find_playbooks, read_input_file, yaml_files_in
from runner.playbook.load import load_playbook_data
from runner.playbook.schedule import Schedule

__all__ = ["Catalog", "Entry", "load_catalog"]


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    playbook: Playbook
    schedule: Schedule
    fingerprint: str  # of the file's bytes: unchanged files keep their job untouched


@dataclass
class Catalog:
    entries: dict[str, Entry] = field(default_factory=dict)
    invalid: dict[Path, str] = field(default_factory=dict)  # file -> located errors
    unscheduled: list[Path] = field(default_factory=list)  # valid, but no schedule:

    def unsure(self, path: Path) -> bool:
        """Whether what ``path`` holds now is unknown: the file is invalid or unreadable,
        or a directory it is in could not be read (its playbook keeps its version)."""
        return path in self.invalid or any(folder in path.parents for folder in self.invalid)


def load_catalog(paths: Iterable[Path]) -> Catalog:
    catalog = Catalog()
    found = find_playbooks(paths)
    for folder, why in found.unreadable.items():
        catalog.invalid[folder] = (
            f"{folder}: cannot read the directory: {why}; the playbooks in it are not "
            "loaded (those already scheduled keep their previous versions)"
        )
    for path in found.files:
        try:
            data = read_input_file(path)  # once: the fingerprint is of what was loaded
            playbook = load_playbook_data(data, str(path))
        except OSError as error:
            catalog.invalid[path] = f"{path}: cannot read: {error.strerror}"
            continue
        except PlaybookError as error:
            catalog.invalid[path] = str(error)
            continue
        if playbook.schedule is None:
            catalog.unscheduled.append(path)
            continue
        earlier = catalog.entries.get(playbook.name)
        if earlier is not None:
            catalog.invalid[path] = (
                f"{path}: playbook name {playbook.name!r} is already used by {earlier.path}; "
                "names identify runs in the ledger, so each must be unique"
            )
            continue
        catalog.entries[playbook.name] = Entry(
            playbook.name, path, playbook, playbook.schedule, hashlib.sha256(data).hexdigest()
        )
    return catalog


def fingerprint_of(paths: Iterable[Path]) -> str:
    """Changes when a playbook file is added, removed or modified (for --watch, every 2 s).

    Only names and ``stat`` are read, never the files' text (telling another tool's YAML
    apart is the reload's job): a directory of thousands of playbooks costs a walk. The
    change time and inode are included: they move on every write and rename, even when
    the size stays and the modification time is set back (``rsync -a``, ``cp -p``).
    """
    digest = hashlib.sha256()
    for path in paths:
        for file in yaml_files_in(path) if path.is_dir() else [path]:
            try:
                info = file.stat()
            except OSError:
                digest.update(f"{file}\0missing\n".encode())
                continue
            digest.update(
                f"{file}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0{info.st_ino}\0"
                f"{info.st_size}\n".encode()
            )
    return digest.hexdigest()
