"""Loading a playbook file: YAML -> raw checks -> models -> whole-playbook checks.

Every stage reports all of its problems; a later stage runs only when the earlier ones
found none, so one broken key does not cause a cascade of follow-up errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.playbook.check import check_playbook
from runner.playbook.diagnostics import Diagnostic, KeyPath, PlaybookError
from runner.playbook.facts import Facts
from runner.playbook.files import read_input_file
from runner.playbook.loader import SourceMap, load_yaml
from runner.playbook.models import Playbook
from runner.playbook.problems import diagnostics_from_validation, keys_around
from runner.secrets import looks_like_token

__all__ = ["load_playbook", "load_playbook_data", "load_playbook_text", "validate_path"]

_YAML11_BOOLEANS = {"yes", "no", "on", "off"}
_KEY_LINE = re.compile(r"^[ \t]*(?:- )?(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?:[ \t]|$)")
# step fields that take true/false (or a condition): YAML 1.1 reads `if: off` as false, YAML
# 1.2 as text, so only true/false are taken there, as under vars:
_BOOLEAN_FIELDS = {"if", "assert", "continue_on_error", "allow_zero", "until_empty"}


def load_playbook(path: str | Path) -> Playbook:
    """Reads and fully checks one playbook; raises :class:`PlaybookError` on any problem."""
    try:
        data = read_input_file(Path(path))
    except OSError as error:
        reason = error.strerror or str(error)
        raise PlaybookError(
            [Diagnostic(str(path), 1, 1, (), f"cannot read playbook: {reason}")]
        ) from None
    return load_playbook_data(data, str(path))


def load_playbook_data(data: bytes, file: str) -> Playbook:
    """A playbook from the bytes of its file (read once: serve fingerprints the same bytes)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PlaybookError(
            [Diagnostic(file, 1, 1, (), "cannot read playbook: not UTF-8 text")]
        ) from None
    return load_playbook_text(text, file)


def load_playbook_text(text: str, file: str = "<playbook>") -> Playbook:
    data, source = load_yaml(text, file)
    problems = list(_raw_problems(data, source))
    if not isinstance(data, dict):
        problems.append(
            source.diagnostic((), "a playbook is a mapping (version:, name:, steps:, ...)")
        )
    if problems:
        raise PlaybookError(problems)
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as error:
        raise PlaybookError(diagnostics_from_validation(error, data, source, Playbook)) from None
    problems = check_playbook(Facts(playbook), source)
    if problems:
        raise PlaybookError(problems)
    return playbook


def validate_path(path: str | Path) -> list[Diagnostic]:
    """All problems of one file (empty when it is a valid playbook)."""
    try:
        load_playbook(path)
    except PlaybookError as error:
        return error.diagnostics
    return []


def _leaves(value: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), key
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _swallowed_keys(data: Any, source: SourceMap) -> Iterator[Diagnostic]:
    """A key indented into the text of a ``>`` or ``|`` block above it is text, and the
    key is gone: ``schedule:`` indented under ``description: >-`` left a playbook without
    its schedule, and validate said nothing."""
    for path, lines in source.blocks.items():
        keys = keys_around(path, data, Playbook)
        for number, line in lines:
            found = _KEY_LINE.match(line)
            if found is not None and found["key"] in keys:
                yield Diagnostic(
                    source.file,
                    number,
                    found.start("key") + 1,
                    path,
                    f"this line is text inside the block above ({path[-1]}: with | or >), "
                    f"not the key {found['key']!r}: its indentation put it there; indent it "
                    "like the keys of its mapping",
                )


def _raw_problems(data: Any, source: SourceMap) -> Iterator[Diagnostic]:
    """Problems that must be found even where the models would not look (e.g. unknown keys)."""
    yield from _swallowed_keys(data, source)
    for path, value in _leaves(data):
        # the loader refused every token written in the text; this one was made by escapes
        # ("wai\x5fsess_…") and is still a literal token
        if isinstance(value, str) and looks_like_token(value):
            yield source.diagnostic(
                path,
                "literal session token in the playbook: reference it instead, e.g. "
                "token: ${{ env.WAIAAS_SESSION_TOKEN }} or token_file:",
            )
        info = source.scalars.get(path)
        if (
            (
                (len(path) == 2 and path[0] == "vars")
                or (path[:1] == ("steps",) and path[-1] in _BOOLEAN_FIELDS)
            )
            and info is not None
            and info.style is None
            and info.text.lower() in _YAML11_BOOLEANS
        ):
            fix = "true/false" if path[0] == "steps" else f'true/false, or quote it: "{info.text}"'
            yield source.diagnostic(
                path,
                f"YAML reads unquoted {info.text} as "
                f"{'true or false' if info.tag == 'bool' else 'text'}; write {fix}",
            )
