"""The `waiaas-run` command line: one module per subcommand, loaded on demand."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from runner import __version__

# subcommand name -> "module:attribute" of its click.Command. Adding a subcommand is one line.
_COMMANDS: dict[str, str] = {
    "validate": "runner.cli.validate:command",
    "schema": "runner.cli.schema:command",
    "sandbox": "runner.cli.sandbox:command",
    "run": "runner.cli.run:command",
    "plan": "runner.cli.plan:command",
    "history": "runner.cli.history:command",
    "resolve": "runner.cli.resolve:command",
    "serve": "runner.cli.serve:command",
    "status": "runner.cli.status:command",
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

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command: Any = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


class _MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from runner.playbook.diagnostics import mask_secrets  # only when something is logged

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
