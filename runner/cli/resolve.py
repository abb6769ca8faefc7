"""``waiaas-run resolve KEY --tx ID | --not-sent``: settle a send left in state unknown.

After a person has looked at the daemon's transaction list: ``--tx ID`` records that the
send did create that transaction (it will be waited on, never posted again);
``--not-sent`` records that it created nothing (``--resume`` may post it again).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from filelock import Timeout

from runner.cli._ledger_option import open_ledger, state_option
from runner.errors import exit_code_of
from runner.ledger import Ledger, LedgerError, SendState
from runner.ledger.keys import SendKey
from runner.ledger.locks import playbook_lock

_SETTLEABLE = (SendState.UNKNOWN, SendState.INTENDED)
_TX_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@contextlib.contextmanager
def _playbook_idle(ledger: Ledger, key: str) -> Iterator[None]:
    """Settling a send while a run of its playbook is going on could race that run."""
    try:
        playbook = SendKey.parse(key).playbook
    except ValueError as error:
        raise click.UsageError(f"{error}; see `waiaas-run history`") from None
    lock = playbook_lock(ledger.path, playbook)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise click.UsageError(
            f"a run of playbook {playbook!r} is going on; resolve once it has finished"
        ) from None
    try:
        yield
    finally:
        lock.release()


@click.command("resolve")
@click.argument("key")
@click.option("--tx", "tx_id", metavar="ID", help="The transaction this send created.")
@click.option("--not-sent", is_flag=True, help="The send created no transaction.")
@state_option
def command(key: str, tx_id: str | None, not_sent: bool, state: Path | None) -> None:
    """Settle the send KEY (playbook/run-id/step, as `history` shows it)."""
    if (tx_id is None) == (not not_sent):
        raise click.UsageError("give exactly one of --tx ID and --not-sent")
    if tx_id is not None and not _TX_ID.fullmatch(tx_id):
        raise click.UsageError(f"--tx {tx_id!r} is not a transaction id (a UUID)")
    try:
        with open_ledger(state) as ledger, _playbook_idle(ledger, key):
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
    except LedgerError as error:  # damaged, full or locked: said plainly, nothing settled
        click.echo(f"{error}; {key} was not settled", err=True)
        sys.exit(int(exit_code_of(error)))
