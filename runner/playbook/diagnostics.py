"""Validation problems and how they are shown: the one place that formats them.

A problem always says where (``file:line:col`` and the key path inside the playbook) and
what to do. Text form is one line per problem, ``path:line:col: key.path: message``; the
JSON form carries the same fields. Session tokens are masked here, so no message can leak
one even when it quotes the offending value.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from runner.errors import ExitCode, RunnerError
from runner.secrets import mask_secrets

__all__ = [
    "Diagnostic",
    "KeyPath",
    "PlaybookError",
    "describe_type",
    "did_you_mean",
    "format_key_path",
    "mask_secrets",
    "render_json",
    "render_text",
]

KeyPath = tuple[str | int, ...]


def describe_type(value: object) -> str:
    """How a YAML value's type reads in a message: "a boolean", "a number", "a list"."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "text"
    return "null" if value is None else type(value).__name__


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'balance'?)`` when a known name is close to ``name``, else ``""``."""
    candidates = list(known)
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        folded = {candidate.casefold(): candidate for candidate in candidates}
        close = [folded[name.casefold()]] if name.casefold() in folded else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def format_key_path(path: KeyPath) -> str:
    """``("steps", 2, "send", "amount")`` -> ``steps[2].send.amount``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class Diagnostic:
    """One validation problem, located in its source file (line and column are 1-based)."""

    file: str
    line: int
    column: int
    path: KeyPath
    message: str

    def __post_init__(self) -> None:
        # everything a diagnostic prints may quote the source: a key, a file name, a value
        object.__setattr__(self, "file", mask_secrets(self.file))
        object.__setattr__(self, "message", mask_secrets(self.message))
        masked = tuple(mask_secrets(p) if isinstance(p, str) else p for p in self.path)
        object.__setattr__(self, "path", masked)

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        if self.path:
            return f"{where}: {format_key_path(self.path)}: {self.message}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": format_key_path(self.path),
            "message": self.message,
        }


def _ordered(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    unique = dict.fromkeys(diagnostics)
    return sorted(unique, key=lambda d: (d.file, d.line, d.column, d.message))


class PlaybookError(RunnerError):
    """A playbook failed to load; carries every problem found, in source order."""

    exit_code = ExitCode.INVALID

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = _ordered(diagnostics)
        super().__init__(render_text(self.diagnostics))


def render_text(diagnostics: Iterable[Diagnostic]) -> str:
    """One line per problem; a token in a key or a value is never printed."""
    return mask_secrets("\n".join(d.format() for d in _ordered(diagnostics)))


def render_json(results: Mapping[str, Sequence[Diagnostic]]) -> str:
    """``{file: problems}`` -> the ``--output json`` document of ``waiaas-run validate``."""
    files = [
        {
            "file": file,
            "valid": not problems,
            "errors": [d.to_dict() for d in _ordered(problems)],
        }
        for file, problems in results.items()
    ]
    document = {"valid": all(f["valid"] for f in files), "files": files}
    return mask_secrets(json.dumps(document, indent=2, ensure_ascii=False))
