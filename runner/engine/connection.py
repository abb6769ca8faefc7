"""Which daemon a run talks to, with which token, and which environment it sees.

Precedence for the daemon: ``--sandbox`` > ``--daemon-url`` / ``--token-file`` /
``$WAIAAS_SESSION_TOKEN`` > what the playbook's ``daemon:`` refers to. Environment
variables that only feed ``daemon.token`` are never visible to expressions, so a token
cannot be rendered into a memo or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from runner.engine.options import LaunchOptions
from runner.errors import UsageError
from runner.playbook import EvalContext, EvaluationError, Playbook, Template, UnitTable, render
from runner.playbook.facts import referenced
from runner.playbook.files import read_input_file
from runner.playbook.values import format_value

__all__ = [
    "TOKEN_ENV",
    "URL_ENV",
    "Connection",
    "checked_url",
    "daemon_token",
    "daemon_url",
    "environment",
    "expression_env",
    "given_token",
    "resolve_connection",
]

TOKEN_ENV = "WAIAAS_SESSION_TOKEN"
URL_ENV = "WAIAAS_URL"


def _names_in(template: Template | None) -> set[str]:
    if template is None:
        return set()
    return {
        name
        for p in template.placeholders
        for root, name in referenced(p.expression)
        if root == "env"
    }


def environment(playbook: Playbook, environ: Mapping[str, str]) -> dict[str, str | None]:
    """The variables the playbook reads: set ones, else the defaults its ``env:`` declares."""
    names = set(playbook.env) | _names_in(playbook.daemon.url) | _names_in(playbook.daemon.token)
    return {name: environ.get(name, playbook.env.get(name)) for name in names}


def _render_daemon_text(template: Template, env: Mapping[str, str | None], what: str) -> str:
    missing = sorted(name for name in _names_in(template) if env.get(name) is None)
    if missing:
        raise UsageError(
            f"daemon.{what} needs the environment variable(s) {', '.join(missing)}; "
            f"set them{' or pass --daemon-url' if what == 'url' else ''}"
        )
    context = EvalContext(units=UnitTable(), env={k: v for k, v in env.items() if v is not None})
    try:
        return format_value(render(template, context))
    except EvaluationError as error:
        raise UsageError(f"daemon.{what}: {error}") from None


def daemon_url(playbook: Playbook, options: LaunchOptions, env: Mapping[str, str | None]) -> str:
    return checked_url(options.daemon_url or _render_daemon_text(playbook.daemon.url, env, "url"))


def checked_url(url: str) -> str:
    """``url`` if it can name a daemon, else a :class:`UsageError` that never quotes a
    credential."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # an unclosed [ipv6] bracket, a port that is not a number
        usable = False
    # A URL that cannot name a daemon is bad input (exit 2), not three failed connects (exit 1).
    if usable and ("@" in parts.netloc):
        # user:password@ would be sent as Basic auth in place of the session token (every
        # request 401), and a password would end up in /status and the logs: refused, and
        # never quoted
        raise UsageError(
            "the daemon URL carries credentials (user:password@host); the session token is "
            "the only credential: remove them (from --daemon-url, else $WAIAAS_URL or "
            "daemon.url)"
        )
    if not usable or url != url.strip():
        raise UsageError(
            f"the daemon URL {url[:80] if '@' not in url else '(not shown: it has an @)'!r} "
            "is not an http:// or https:// URL with a host "
            "(from --daemon-url, else $WAIAAS_URL or daemon.url)"
        )
    return url


def _read_token_file(path: Path) -> str:
    try:
        return read_input_file(path).decode("utf-8-sig")  # a BOM from a Windows editor is fine
    except OSError as error:
        raise UsageError(f"cannot read the token file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the token file {path} is not UTF-8 text") from None


# A token goes into an HTTP header: one line of visible ASCII (a JWT is base64url and dots).
_TOKEN_SHAPE = re.compile(r"[!-~]+")


def _checked_token(token: str, source: str) -> str:
    token = token.strip()
    if not token:
        raise UsageError(f"the session token from {source} is empty")
    if not _TOKEN_SHAPE.fullmatch(token):
        # never quote it: the point of this message is that the value is broken
        raise UsageError(
            f"the session token from {source} is not one line of printable ASCII "
            "(a second line, a space or a special character?); fix it there"
        )
    return token


def given_token(options: LaunchOptions) -> str | None:
    """The token given outside any playbook: ``--token-file``, else ``$WAIAAS_SESSION_TOKEN``."""
    if options.token_file is not None:
        return _checked_token(_read_token_file(options.token_file), str(options.token_file))
    if options.environ.get(TOKEN_ENV):
        return _checked_token(options.environ[TOKEN_ENV], f"${TOKEN_ENV}")
    return None


def daemon_token(
    playbook: Playbook, playbook_path: Path, options: LaunchOptions, env: Mapping[str, str | None]
) -> str:
    if (given := given_token(options)) is not None:
        return given
    if playbook.daemon.token_file is not None:
        path = playbook_path.parent / playbook.daemon.token_file
        return _checked_token(_read_token_file(path), str(path))
    assert playbook.daemon.token is not None  # the model requires one of the two
    return _checked_token(_render_daemon_text(playbook.daemon.token, env, "token"), "daemon.token")


def expression_env(
    playbook: Playbook, env: Mapping[str, str | None], options: LaunchOptions
) -> dict[str, str]:
    secret = _names_in(playbook.daemon.token) | {TOKEN_ENV}
    # names that only locate the daemon are not needed when the daemon comes from options
    located = (
        _names_in(playbook.daemon.url)
        if options.sandbox is not None or options.daemon_url
        else set()
    )
    missing = sorted(
        name
        for name, value in env.items()
        if value is None and name in playbook.env and name not in secret | located
    )
    if missing:
        raise UsageError(
            f"the playbook needs the environment variable(s) {', '.join(missing)} (see env:)"
        )
    return {name: value for name, value in env.items() if value is not None and name not in secret}


@dataclass(frozen=True)
class Connection:
    """Where a playbook's daemon is and the token it uses; ``token_file`` when the token
    was read from a file (serve writes a renewed token back there)."""

    url: str
    token: str
    token_file: Path | None


def resolve_connection(playbook: Playbook, path: Path, options: LaunchOptions) -> Connection:
    """The daemon and token a run of ``playbook`` would use (raises :class:`UsageError`)."""
    env = environment(playbook, options.environ)
    token_file = options.token_file
    if token_file is None and not options.environ.get(TOKEN_ENV) and playbook.daemon.token_file:
        token_file = path.parent / playbook.daemon.token_file
    return Connection(
        daemon_url(playbook, options, env), daemon_token(playbook, path, options, env), token_file
    )
