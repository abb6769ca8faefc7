"""``waiaas-run history``: the runs and sends the ledger holds, newest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from runner.cli._ledger_option import open_ledger, state_option
from runner.cli._numbers import WholeNumber
from runner.ledger import SendIntent, default_ledger_path


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _send_json(send: SendIntent) -> dict[str, object]:
    return {
        "key": send.key,
        "step": send.step_id,
        "state": send.state.value,
        "tx_id": send.tx_id,
        "tx_status": send.tx_status,
        "to": send.to_address,
        "amount_raw": str(send.amount_raw),
        "symbol": send.symbol,
        "network": send.network,
        "intended_at": _when(send.intended_at),
        "note": send.note,
    }


def _not_created_yet(path: Path) -> bool:
    """No ledger there yet, though one could be (a path through a file never could)."""
    existing = next((folder for folder in path.parents if folder.exists()), None)
    return not path.exists() and (existing is None or existing.is_dir())


@click.command("history")
@click.option("--playbook", help="Only this playbook (its name: field).")
@click.option("--limit", type=WholeNumber(1, 10_000), default=20, show_default=True)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@state_option
def command(playbook: str | None, limit: int, output: str, state: Path | None) -> None:
    """List runs and their sends with their states (intended, accepted, unknown,
    not_sent) and the transactions' last known statuses."""
    path = state or default_ledger_path()
    if _not_created_yet(path):  # nothing has run with this ledger yet: an answer, not an error
        click.echo("[]" if output == "json" else f"no runs recorded yet (no ledger at {path})")
        return
    with open_ledger(path) as ledger:
        runs = ledger.runs(playbook, limit)
        sends = {run.run_id: ledger.sends(run_id=run.run_id) for run in runs}
    if output == "json":
        document = [
            {
                "run_id": run.run_id,
                "playbook": run.playbook,
                "started": _when(run.started_at),
                "finished": _when(run.finished_at),
                "status": run.status,
                "exit_code": run.exit_code,
                "sends": [_send_json(send) for send in sends[run.run_id]],
            }
            for run in runs
        ]
        click.echo(json.dumps(document, indent=2))
        return
    if not runs:
        click.echo("no runs recorded" + (f" for playbook {playbook!r}" if playbook else ""))
    for run in runs:
        exit_code = "-" if run.exit_code is None else run.exit_code
        when = _when(run.started_at)
        click.echo(f"{when}  {run.playbook}  {run.run_id}  {run.status} (exit {exit_code})")
        for send in sends[run.run_id]:
            tx = f"{send.tx_id} {send.tx_status or ''}".strip() if send.tx_id else "no transaction"
            click.echo(
                f"    {send.key}: {send.state.value}  {send.amount_raw} (smallest units of "
                f"{send.symbol}) -> {send.to_address}  [{tx}]"
            )
            if send.note:
                click.echo(f"      note: {send.note}")
