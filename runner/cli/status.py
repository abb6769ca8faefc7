"""``waiaas-run status``: what serve is doing (``--http``), or what the ledger says."""

from __future__ import annotations

import json
from pathlib import Path

import click
import httpx

from runner.cli._ledger_option import open_ledger, state_option
from runner.ledger.slots import SlotLog
from runner.serve.status import ledger_status, render_status


@click.command("status")
@click.option(
    "--http",
    "address",
    metavar="HOST:PORT",
    help="Ask a running `waiaas-run serve --http HOST:PORT` (else: read the ledger).",
)
@state_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON of GET /status.")
def command(address: str | None, state: Path | None, as_json: bool) -> None:
    """Scheduled playbooks: next fire, last run and outcome, sends that need a person."""
    if address is not None:
        url = address if "://" in address else f"http://{address}"
        try:
            answer = httpx.get(url.rstrip("/") + "/status", timeout=10.0)
            answer.raise_for_status()
            status = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise click.ClickException(f"cannot read {url}/status: {error}") from None
    else:
        with open_ledger(state) as ledger:
            slots = SlotLog(ledger.path)
            try:
                status = ledger_status(ledger, slots)
            finally:
                slots.close()
    click.echo(json.dumps(status, indent=2) if as_json else render_status(status))
    if status["sends_needing_attention"]:
        raise SystemExit(3)
