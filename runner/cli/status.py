"""``waiaas-run status``: what serve is doing (``--http``), or what the ledger says."""

from __future__ import annotations

import json
from pathlib import Path

import click
import httpx

from runner.cli._address import status_url
from runner.cli._ledger_option import open_ledger, state_option
from runner.ledger.slots import SlotLog
from runner.serve.catalog import load_catalog
from runner.serve.status import ledger_status, render_status


@click.command("status")
@click.argument(
    "paths", nargs=-1, type=click.Path(exists=True, path_type=Path), metavar="[PATHS]..."
)
@click.option(
    "--http",
    "url",
    callback=status_url,
    metavar="HOST:PORT",
    help="Ask a running `waiaas-run serve --http HOST:PORT` (else: read the ledger).",
)
@state_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of GET /status.")
def command(url: str | None, paths: tuple[Path, ...], state: Path | None, as_json: bool) -> None:
    """Scheduled playbooks: next fire, last run and outcome, sends that need a person.

    With --http, a running serve answers. Without it, the ledger does; give the playbook
    files or directories serve runs (PATHS) to see their schedules and next fires too.
    """
    if url is not None and paths:
        raise click.UsageError("give either --http (ask serve) or PATHS (read them), not both")
    if url is not None:
        try:
            answer = httpx.get(url + "/status", timeout=10.0)
            answer.raise_for_status()
            status = answer.json()
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
            raise click.ClickException(f"cannot read {url}/status: {error}") from None
    else:
        with open_ledger(state) as ledger:
            slots = SlotLog(ledger.path)
            try:
                status = ledger_status(ledger, slots, load_catalog(paths) if paths else None)
            finally:
                slots.close()
    try:
        if not (
            isinstance(status, dict)
            and isinstance(status.get("playbooks"), list)
            and isinstance(status.get("sends_needing_attention"), list)
        ):
            raise TypeError("no list of playbooks and of sends needing a person")
        text = json.dumps(status, indent=2) if as_json else render_status(status)
        attention = status["sends_needing_attention"]
    except (KeyError, TypeError, AttributeError) as error:
        # a proxy or another program on that port: say so instead of a traceback
        raise click.ClickException(
            f"{url}/status did not answer like `waiaas-run serve` "
            f"({type(error).__name__}: {error}); is that the right address?"
        ) from None
    click.echo(text)
    if attention:
        raise SystemExit(3)
