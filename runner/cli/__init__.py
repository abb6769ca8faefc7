"""The `waiaas-run` command line: one module per subcommand, loaded on demand."""

from __future__ import annotations

import errno
import importlib
import logging
import signal
import sys
from typing import Any

import click

from runner import __version__
from runner.secrets import mask_secrets

# httpx's package __init__ imports its own command line (httpx._main), which loads rich and
# pygments whenever they are installed: ~60 ms and several MB on every cron tick that only
# needs the HTTP client. A None entry in sys.modules makes that one import fail, which
# httpx handles (it then defines a stub `httpx.main`); rich itself is still imported, by
# our terminal reporter, when output goes to a person.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

# subcommand name -> "module:attribute" of its click.Command. Adding a subcommand is one line.
_COMMANDS: dict[str, str] = {
    "validate": "runner.cli.validate:command",
    "schema": "runner.cli.schema:command",
    "sandbox": "runner.cli.sandbox:command",
    "run": "runner.cli.run:command",
    "plan": "runner.cli.plan:command",
    "history": "runner.cli.history:command",
    "resolve": "runner.cli.resolve:command",
    "ledger": "runner.cli.ledger:command",
    "test": "runner.cli.test:command",
    "serve": "runner.cli.serve:command",
    "status": "runner.cli.status:command",
    "audit": "runner.cli.audit:command",
}


class _LazyGroup(click.Group):
    """Imports a subcommand's module only when it is used, so `waiaas-run --help` stays fast."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `waiaas-run playbook.yaml` (or `waiaas-run --sandbox x.yaml`) means `run`.
        first = args[0] if args else None
        own_options = {"-h", "--help", "--version"}
        if first is not None and first not in _COMMANDS and first not in own_options:
            args = ["run", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:  # it may quote what was typed
            message = error.format_message()
            if mask_secrets(message) == message:
                raise
            raise click.UsageError(mask_secrets(message), error.ctx) from None
        except OSError as error:
            if error.errno == errno.EPIPE:
                raise  # the reader went away (`| head`): click ends quietly with 1
            # what no command turned into a message of its own, e.g. its output on a full
            # disk (`ledger export > sends.csv`): one located line, never a traceback
            where = f" ({error.filename})" if error.filename else ""
            click.echo(
                mask_secrets(
                    f"waiaas-run {ctx.invoked_subcommand or ''}: stopped by a system error: "
                    f"{error.strerror or error}{where}; what it printed may be incomplete"
                ),
                err=True,
            )
            sys.exit(1)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click cuts each summary to the terminal width with "..."; give the whole first
        # sentence instead and let the formatter wrap it.
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        if cmd_name == "serve" and hasattr(signal, "SIGHUP"):
            # serve reloads on SIGHUP once its handler is in place; until then (imports,
            # opening the ledger) the default action would kill it: a `systemctl reload`
            # right after a start ended serve with 129. Its start reads the files anyway.
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        module_name, attribute = target.split(":")
        command: Any = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


class _MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask_secrets(record.getMessage()), None
        return True


def _configure_logging() -> None:
    # Retries and other warnings go to stderr, one line each; nothing may show a token.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("waiaas-run: %(levelname)s: %(message)s"))
    handler.addFilter(_MaskSecrets())
    root = logging.getLogger("runner")
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="waiaas-run")
def main() -> None:
    """Declarative wallet automation for the self-hosted WAIaaS daemon.

    `waiaas-run PLAYBOOK...` is short for `waiaas-run run PLAYBOOK...`.
    """
    if not logging.getLogger("runner").handlers:
        _configure_logging()
