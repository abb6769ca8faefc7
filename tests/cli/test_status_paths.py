"""`waiaas-run status PATHS` without a serve to ask: the ledger's last slot of each
playbook plus, read from the playbooks, their schedules and next fires; invalid ones are
named; PATHS and --http together are a usage error."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from runner.cli import main
from runner.ledger.slots import SlotLog
from tests.exactly_once.conftest import playbook_text

READ = """\
steps:
  - id: look
    balance: { wallet: treasury }
"""


def test_status_reads_schedules_from_the_playbooks(tmp_path: Path) -> None:
    books = tmp_path / "books"
    books.mkdir()
    for name, schedule in (("hourly", "{ interval: 1h }"), ("nightly", '{ cron: "0 3 * * *" }')):
        text = playbook_text(f"schedule: {schedule}\n{READ}", name)
        (books / f"{name}.yaml").write_text(text, encoding="utf-8")
    (books / "broken.yaml").write_text(playbook_text("steps: []\n", "broken"), encoding="utf-8")
    ledger = tmp_path / "ledger.sqlite3"
    log = SlotLog(ledger)
    last_hour = time.time() // 3600 * 3600
    log.started("hourly", last_hour, "r1", 0.0)
    log.finished("hourly", last_hour, "ok", None)
    log.started("retired", last_hour, "r2", 0.0)  # in the ledger, no longer a file
    log.finished("retired", last_hour, "ok", None)
    log.close()

    result = CliRunner().invoke(main, ["status", "--state", str(ledger), "--json", str(books)])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    books_by_name = {book["name"]: book for book in status["playbooks"]}
    assert set(books_by_name) == {"hourly", "nightly", "retired"}
    hourly = books_by_name["hourly"]
    assert hourly["schedule"].startswith("every 3600s")
    expected = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last_hour + 3600))
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last_hour + 7200))
    assert hourly["next_fire"] in (expected, later)  # (the test may straddle an hour)
    assert hourly["last"]["outcome"] == "ok"
    assert books_by_name["nightly"]["next_fire"].endswith("T03:00:00Z")
    assert books_by_name["nightly"]["last"] == {}
    assert "next_fire" not in books_by_name["retired"]
    assert [Path(p).name for p in status["invalid"]] == ["broken.yaml"]

    text = CliRunner().invoke(main, ["status", "--state", str(ledger), str(books)])
    assert text.exit_code == 0
    assert hourly["next_fire"] in text.output and "INVALID" in text.output


def test_paths_and_http_together_are_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["status", "--http", "9464", str(tmp_path)])
    assert result.exit_code == 2
    assert "not both" in result.output
