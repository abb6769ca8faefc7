"""``waiaas-run ledger prune|vacuum|backup|export|stats``: the ledger's lifecycle.

Every command checks what it was given before it touches the ledger: a bad duration, a
DEST that exists, a damaged ledger is a clear error (exit 2) and nothing is changed.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from runner.cli._execution import positive_duration
from runner.cli._ledger_option import state_option
from runner.cli._numbers import WholeNumber
from runner.errors import exit_code_of
from runner.ledger import LedgerError, default_ledger_path
from runner.ledger.backup import backup
from runner.ledger.connection import connect, failure
from runner.ledger.export import export_sends, write_csv, write_jsonl
from runner.ledger.health import check_newest
from runner.ledger.retention import (
    DEFAULT_BATCH,
    DEFAULT_RETENTION,
    Pruner,
    file_bytes,
)
from runner.ledger.stats import ledger_stats
from runner.ledger.store import Ledger
from runner.playbook.amounts import NATIVE_UNITS
from runner.playbook.durations import DurationError, duration_text, parse_duration
from runner.secrets import mask_secrets

# a number and a unit: meant as a duration, whatever is wrong with it
_DURATION_LIKE = re.compile(r"[0-9]+[a-z]+(?:[0-9]+[a-z]+)*")

__all__ = ["backup_command", "export_command", "prune_command", "stats_command", "vacuum_command"]


def _fail(command: str, error: LedgerError) -> NoReturn:
    click.echo(f"waiaas-run ledger {command}: {error}", err=True)
    sys.exit(int(exit_code_of(error)))


def _existing(state: Path | None) -> Path:
    path = state or default_ledger_path()
    if not path.is_file():
        raise click.UsageError(f"no ledger at {path} (nothing has run with it yet)")
    return path


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that can change nothing (dry runs, stats, export), checked on open:
    every command opens the ledger this way first, so that a file that is not a ledger
    (empty, another program's database), a newer runner's or a damaged one is refused
    before anything is written."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise failure(error, path, "opening it to read") from None
    try:
        db.row_factory = sqlite3.Row
        check_newest(db)
    except sqlite3.Error as error:
        db.close()
        raise failure(error, path, "opening it to read") from None
    return db


def _writable(path: Path) -> sqlite3.Connection:
    """A connection that writes, once the file was checked to be a ledger (read-only: a
    file that is not one is never turned into one); its schema brought to this version."""
    Ledger(path).close()
    return connect(path)


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


@click.command("prune")
@click.option(
    "--older-than",
    required=True,
    callback=positive_duration,
    metavar="DURATION",
    help='Remove runs started longer ago than this ("30d", "12h").',
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@click.option(
    "--batch",
    type=WholeNumber(1, 100_000),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Runs per write transaction (a live run waits at most one batch for the lock).",
)
@state_option
def prune_command(older_than: float, dry_run: bool, batch: int, state: Path | None) -> None:
    """Remove runs, their steps and sends, and slot records older than --older-than, in
    small batches, and hand the space back. Never removed: a send not settled (intended,
    unknown, pending, awaiting approval), a send of the last 24 h (max_per_day counts
    it), the newest run of each playbook (--resume), a run still marked running, the
    newest slot of each playbook. Afterwards a run for a slot older than the horizon
    (`run --scheduled-for`, serve's catch-up) is refused: its record may be gone."""
    path = _existing(state)
    now = time.time()
    try:
        db = _read_only(path)
        if not dry_run:
            db.close()
            db = _writable(path)
    except LedgerError as error:
        _fail("prune", error)
    size_before = file_bytes(path)
    try:
        report = Pruner(db, now - older_than, now=now, batch=batch, dry_run=dry_run).run()
        if not dry_run:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file shrinks now
    except sqlite3.Error as error:
        _fail("prune", failure(error, path, "pruning it (the batches before were committed)"))
    finally:
        db.close()
    for line in report.lines():
        click.echo(line)
    if not dry_run:
        click.echo(f"{path}: {_mb(size_before)} -> {_mb(file_bytes(path))}")


@click.command("vacuum")
@state_option
def vacuum_command(state: Path | None) -> None:
    """Rewrite the ledger once so that pruned space goes back to the file system (ledgers
    created before retention existed). It holds the write lock for the whole rewrite (see
    the README for its cost) and needs free disk space the size of the ledger: stop serve
    first, or let runs wait."""
    path = _existing(state)
    try:
        _read_only(path).close()
        db = _writable(path)
    except LedgerError as error:
        _fail("vacuum", error)
    size_before = file_bytes(path)
    started = time.perf_counter()
    try:
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as error:
        _fail("vacuum", failure(error, path, "rewriting it (the ledger is unchanged)"))
    finally:
        db.close()
    click.echo(
        f"{path}: rewritten in {time.perf_counter() - started:.1f}s, "
        f"{_mb(size_before)} -> {_mb(file_bytes(path))}; pruned space now goes back to "
        "the file system"
    )


def _backup_dest(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    """DEST as typed: the forms a Path would silently turn into something else."""
    if not value.strip():
        raise click.BadParameter("it is empty: give the path of the copy to write")
    if value == "-":
        raise click.BadParameter(
            "a backup is a file (checked in full before it gets its name), not a stream on "
            "standard output: give the path of the copy to write"
        )
    if value.endswith(("/", "/.")):
        raise click.BadParameter(
            f"{value!r} names a folder: give the path of the copy to write, e.g. "
            f"{value.rstrip('/.') or '.'}/ledger-copy.sqlite3"
        )
    return Path(value)


@click.command("backup")
@click.argument("dest", callback=_backup_dest)
@state_option
def backup_command(dest: Path, state: Path | None) -> None:
    """Write a consistent copy of the ledger to DEST (a new file) while runs and serve go
    on writing (SQLite's online backup), and check the copy in full. DEST must not exist,
    nor be the ledger or one of its journal files; its folder must exist. Not `-`: the
    copy is a checked file, not a stream."""
    path = _existing(state)
    try:
        _read_only(path).close()  # a ledger, of this version or older, not damaged
        result = backup(path, dest)
    except LedgerError as error:
        _fail("backup", error)
    report = result.report
    click.echo(
        f"{dest}: {_mb(result.bytes)}, {report.runs} runs, {report.sends} sends; checked "
        f"sound ({result.seconds:.1f}s)"
    )


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A moment (``2026-01-31``, ``2026-01-31T12:00:00Z``) or a duration back from now."""
    if value is None:
        return None
    try:
        return time.time() - parse_duration(value).total_seconds()
    except DurationError as error:
        if _DURATION_LIKE.fullmatch(value.strip()):  # "400d": say what is wrong with it
            raise click.BadParameter(f"{error}; give a date for longer") from None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f'{value!r} is neither a date (2026-01-31, 2026-01-31T12:00:00Z) nor a duration ("7d")'
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _native_decimals(symbol: str) -> int | None:
    unit = NATIVE_UNITS.get(symbol)
    return unit.decimals if unit is not None and unit.symbol == symbol else None


@click.command("export")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--since",
    callback=_since,
    metavar="DATE|DURATION",
    help='Only sends intended since then ("2026-01-01", "30d").',
)
@click.option("--playbook", help="Only this playbook's sends (its name: field).")
@state_option
def export_command(
    output_format: str, since: float | None, playbook: str | None, state: Path | None
) -> None:
    """Every send on stdout, one record each, oldest first: run id, playbook, step,
    wallet, network, recipient, amount (units and smallest units), symbol, memo, state,
    transaction id, its last status, times (UTC). CSV cells that a spreadsheet would
    evaluate are prefixed with '; nothing secret is in the ledger to export."""
    path = _existing(state)
    try:
        db = _read_only(path)
    except LedgerError as error:
        _fail("export", error)
    try:
        records = export_sends(db, decimals_of=_native_decimals, since=since, playbook=playbook)
        writer = write_csv if output_format == "csv" else write_jsonl
        count = writer(records, sys.stdout)
        known = _playbooks_with_sends(db) if count == 0 and playbook is not None else None
    except sqlite3.Error as error:
        _fail("export", failure(error, path, "exporting its sends"))
    finally:
        db.close()
    click.echo(f"{count} send(s) exported", err=True)
    if known is not None and playbook not in known:  # a typo is not "no sends"
        listed = ", ".join(sorted(known)[:10]) or "none"
        click.echo(
            mask_secrets(
                f"no playbook named {playbook!r} has sends in {path} (those that do: "
                f"{listed}; --playbook takes the playbook's name: field)"
            ),
            err=True,
        )


def _playbooks_with_sends(db: sqlite3.Connection) -> set[str]:
    # one step per playbook through the sends_by_playbook index, however many sends
    return {
        row[0]
        for row in db.execute(
            "WITH RECURSIVE names(name) AS (SELECT min(playbook) FROM sends UNION ALL "
            "SELECT (SELECT min(playbook) FROM sends WHERE playbook > name) FROM names "
            "WHERE name IS NOT NULL LIMIT 11) SELECT name FROM names WHERE name IS NOT NULL"
        )
    }


@click.command("stats")
@click.option(
    "--older-than",
    callback=positive_duration,
    default=f"{DEFAULT_RETENTION / 86400:.0f}d",
    show_default=True,
    metavar="DURATION",
    help="The horizon of the prune whose effect is shown.",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@state_option
def stats_command(older_than: float, output: str, state: Path | None) -> None:
    """Rows per table, bytes, the oldest and newest run, the prune horizon, and what
    `ledger prune --older-than` would remove and free. Reads only."""
    path = _existing(state)
    now = time.time()
    try:
        db = _read_only(path)
    except LedgerError as error:
        _fail("stats", error)
    try:
        stats = ledger_stats(db, path, now - older_than, now)
    except sqlite3.Error as error:
        _fail("stats", failure(error, path, "counting its rows"))
    finally:
        db.close()
    document: dict[str, Any] = {
        "ledger": str(path),
        "rows": stats.rows,
        "file_bytes": stats.file_bytes,
        "used_bytes": stats.used_bytes,
        "free_bytes": stats.free_bytes,
        "incremental_vacuum": stats.auto_vacuum,
        "oldest_run": _iso(stats.oldest_run),
        "newest_run": _iso(stats.newest_run),
        "pruned_before": _iso(stats.horizon.before) if stats.horizon else None,
        "prune": {
            "older_than_seconds": older_than,
            "would_remove": dict(stats.prune.removed),
            "would_keep": dict(stats.prune.kept),
            "would_free_bytes_about": stats.prune_frees_bytes,
        },
    }
    if output == "json":
        click.echo(json.dumps(document, indent=2))
        return
    rows = ", ".join(f"{count} {table}" for table, count in stats.rows.items())
    click.echo(f"{path}: {rows}")
    click.echo(
        f"  {_mb(stats.file_bytes)} on disk ({_mb(stats.used_bytes)} used, "
        f"{_mb(stats.free_bytes)} free inside); incremental vacuum "
        + ("on" if stats.auto_vacuum else "off (run `waiaas-run ledger vacuum` once)")
    )
    click.echo(f"  runs from {document['oldest_run'] or '-'} to {document['newest_run'] or '-'}")
    if stats.horizon:
        click.echo(f"  {stats.horizon.describe()}")
    click.echo(f"  a prune --older-than {duration_text(older_than)}:")
    for line in stats.prune.lines():
        click.echo(f"    {line}")
    click.echo(f"    and free about {_mb(stats.prune_frees_bytes)}")


def _iso(moment: float | None) -> str | None:
    return None if moment is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
