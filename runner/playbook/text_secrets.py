"""Session tokens anywhere in a file's text, comments included.

A comment is committed with the file like any value: ``# old token: wai_sess_…`` in a
playbook goes into git just as surely as ``token: wai_sess_…``. The loader scans the text
itself before it reads any YAML, so every file it reads (playbooks, the runner config,
scenario test files) refuses a token wherever it is written — in a value or key (reported
at that key path), in a comment, after a value, in flow style, or in a file YAML cannot
even parse (reported at the token's line and column). A message never repeats the token.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from runner.playbook.diagnostics import Diagnostic, KeyPath
from runner.secrets import token_columns

__all__ = ["LINE_BREAK", "ScalarSpan", "TextToken", "text_tokens", "token_problems"]

LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # YAML's line breaks

_REFERENCE = "token: ${{ env.WAIAAS_SESSION_TOKEN }} or token_file:"


class TextToken(NamedTuple):
    line: int  # 1-based, counted as YAML counts lines (so CRLF files agree with the parser)
    column: int  # 1-based


class ScalarSpan(NamedTuple):
    """Where a key or value was written: from (line, column) up to, not including, the end."""

    start: tuple[int, int]
    end: tuple[int, int]
    path: KeyPath
    shown_at: tuple[int, int]  # where a problem with it is reported (as for any value)


def text_tokens(text: str) -> list[TextToken]:
    """Every token-shaped string in ``text`` (``wai_sess_…``, a bare session JWT)."""
    if "wai_sess_" not in text.lower() and "eyj" not in text.lower():
        return []  # the common case: one pass over the text, nothing built
    return [
        TextToken(number, column)
        for number, line in enumerate(LINE_BREAK.split(text), start=1)
        for column in token_columns(line)
    ]


def token_problems(
    file: str,
    tokens: list[TextToken],
    spans: list[ScalarSpan] | None,
    what: str,
) -> list[Diagnostic]:
    """One problem per token: at the key path of the key or value it is written in
    (``spans`` from a successful parse), else at its own position (a comment, or a file
    that did not parse). ``what`` names the file ("playbook", "runner config", ...)."""
    problems: list[Diagnostic] = []
    seen: set[KeyPath] = set()
    for token in tokens:
        span = _enclosing(spans or [], token)
        if span is None:
            problems.append(
                Diagnostic(
                    file,
                    token.line,
                    token.column,
                    (),
                    f"literal session token in the {what}'s text (a comment is committed "
                    f"with the file like any value): remove it; give the token by reference, "
                    f"e.g. {_REFERENCE}",
                )
            )
        elif span.path not in seen:  # one problem per value, however many tokens it holds
            seen.add(span.path)
            line, column = span.shown_at
            problems.append(
                Diagnostic(
                    file,
                    line,
                    column,
                    span.path,
                    f"literal session token in the {what}: reference it instead, e.g. {_REFERENCE}",
                )
            )
    return problems


def _enclosing(spans: list[ScalarSpan], token: TextToken) -> ScalarSpan | None:
    where = (token.line, token.column)
    return next((span for span in spans if span.start <= where < span.end), None)
