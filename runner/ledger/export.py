"""``ledger export``: one record per send, for accounting.

Rows are read in one read transaction (a consistent view while runs go on) and streamed.
CSV cells that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are prefixed with ``'``; a memo or note is masked like
every other text the runner shows. The stored request body is not exported whole: only
its named fields are, so nothing the runner did not mean to show leaves the ledger.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeGuard

from runner.client.models import to_token_units
from runner.secrets import mask_secrets
from runner.timestamps import iso_utc

__all__ = ["COLUMNS", "export_sends", "safe_cell", "write_csv", "write_jsonl"]

COLUMNS = (
    "run_id",
    "playbook",
    "step",
    "wallet",
    "network",
    "to",
    "amount",
    "amount_raw",
    "symbol",
    "memo",
    "state",
    "tx_id",
    "tx_status",
    "note",
    "intended_at",
    "updated_at",
)

# and their full-width forms, which some spreadsheets read as the same operators
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

Decimals = Callable[[str], int | None]  # a native symbol's decimals, None when unknown


def export_sends(
    db: sqlite3.Connection,
    *,
    decimals_of: Decimals,
    since: float | None = None,
    playbook: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every send (oldest first) intended at or after ``since``, of ``playbook``."""
    query = "SELECT * FROM sends WHERE intended_at >= ?"
    args: list[Any] = [float("-inf") if since is None else since]
    if playbook is not None:
        query, args = query + " AND playbook = ?", [*args, playbook]
    for row in db.execute(query + " ORDER BY intended_at, key", args):
        yield _record(row, decimals_of)


def _record(row: sqlite3.Row, decimals_of: Decimals) -> dict[str, Any]:
    try:
        request = json.loads(row["request"])
    except ValueError:
        request = {}
    token = request.get("token") if isinstance(request, dict) else None
    decimals = token.get("decimals") if isinstance(token, dict) else decimals_of(row["symbol"])
    raw = str(row["amount_raw"])
    amount = (
        # positional, never "1E-15" (1000 wei); trailing zeros are already gone
        format(to_token_units(raw, decimals), "f")
        if _sane_decimals(decimals) and raw.isascii() and raw.isdigit()
        else None
    )
    memo = request.get("memo") if isinstance(request, dict) else None
    record = {
        "run_id": row["run_id"],
        "playbook": row["playbook"],
        "step": row["step_id"],
        "wallet": row["wallet_id"],
        "network": row["network"],
        "to": row["to_address"],
        "amount": amount,
        "amount_raw": raw,
        "symbol": row["symbol"],
        "memo": None if memo is None else str(memo),
        "state": row["state"],
        "tx_id": row["tx_id"],
        "tx_status": row["tx_status"],
        "note": row["note"],
        "intended_at": iso_utc(row["intended_at"], millis=True),
        "updated_at": iso_utc(row["updated_at"], millis=True),
    }
    # every text masked, not only the free ones: a token pasted into a wallet name, a
    # recipient or a step id must not leave in an export either
    return {
        column: _printable(mask_secrets(value)) if isinstance(value, str) else value
        for column, value in record.items()
    }


def _printable(text: str) -> str:
    # a lone surrogate (an escape in a request body) cannot be written as UTF-8
    return text.encode("utf-8", "replace").decode("utf-8")


def _sane_decimals(decimals: object) -> TypeGuard[int]:
    # a token's recorded decimals (JSON): an ERC-20's are a uint8; true, -5 or 10**6 are
    # not decimals, and would print a wrong amount (or a million digits)
    return type(decimals) is int and 0 <= decimals <= 255


def safe_cell(value: object) -> str:
    """A CSV cell no spreadsheet evaluates: a leading formula character gets a ``'``."""
    if value is None:
        return ""
    text = str(value)
    # a spreadsheet may skip leading blanks before it looks for a formula (" =1+1")
    return "'" + text if text.lstrip(" \u00a0\u3000").startswith(_FORMULA_STARTS) else text


def write_csv(records: Iterator[dict[str, Any]], out: IO[str]) -> int:
    writer = csv.writer(out)  # CRLF lines: a CR or LF inside a cell gets it quoted
    writer.writerow(COLUMNS)
    count = 0
    for record in records:
        writer.writerow([safe_cell(record[column]) for column in COLUMNS])
        count += 1
    return count


def write_jsonl(records: Iterator[dict[str, Any]], out: IO[str]) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
