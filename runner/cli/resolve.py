"""``waiaas-run resolve KEY --tx ID | --not-sent``: settle a send left in state unknown.

After a person has looked at the daemon's transaction list: ``--tx ID`` records that the
send did create that transaction (it will be waited on, never posted again);
``--not-sent`` records that it created nothing (``--resume`` may post it again).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from runner.cli._ledger_option import open_ledger, state_option
from runner.ledger import SendState

_SETTLEABLE = (SendState.UNKNOWN, SendState.INTENDED)


@click.command("resolve")
@click.argument("key")
@click.option("--tx", "tx_id", metavar="ID", help="The transaction this send created.")
@click.option("--not-sent", is_flag=True, help="The send created no transaction.")
@state_option
def command(key: str, tx_id: str | None, not_sent: bool, state: Path | None) -> None:
    """Settle the send KEY (playbook/run-id/step, as `history` shows it)."""
    if (tx_id is None) == (not not_sent):
        raise click.UsageError("give exactly one of --tx ID and --not-sent")
    with open_ledger(state) as ledger:
        send = ledger.send(key)
        if send is None:
            raise click.UsageError(f"no send with key {key!r} (see `waiaas-run history`)")
        if send.state not in _SETTLEABLE:
            raise click.UsageError(
                f"send {key} is {send.state.value}, not unknown; there is nothing to resolve"
            )
        if tx_id is not None:
            try:
                ledger.mark_accepted(key, tx_id, "UNKNOWN", note="resolved by hand")
            except sqlite3.IntegrityError:
                raise click.UsageError(
                    f"transaction {tx_id} already belongs to another send"
                ) from None
            click.echo(f"{key}: recorded as transaction {tx_id}; it will not be posted again")
        else:
            ledger.mark_not_sent(key, "resolved by hand: not sent")
            click.echo(f"{key}: recorded as not sent; `waiaas-run --resume` may post it again")
