"""Bad input to `run` found by trying it as a hostile user would: each is a clear error with
exit 2 before anything is asked of a daemon, never a traceback or three failed connects."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.ledger.keys import SendKey, run_id_problem

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "examples" / "quickstart.yaml")
TOKEN = "wai_sess_QAQAsecretsecretsecret0123456789"


def run(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    environ = {
        "WAIAAS_SESSION_TOKEN": TOKEN,
        "WAIAAS_RUNNER_STATE": str(tmp_path / "ledger.sqlite3"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        **(env or {}),
    }
    result = CliRunner().invoke(main, ["run", *args, QUICKSTART], env=environ)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "localhost:3100",  # no scheme: httpx would refuse the protocol on every retry
        "ftp://127.0.0.1:3100",
        "http://",
        "http://[::1",
        "http://127.0.0.1:abc",
        "http://127.0.0.1:0",
        " http://127.0.0.1:3100",
        TOKEN,  # the token in the URL's variable by mistake: refused, and not printed
    ],
)
@pytest.mark.parametrize("where", ["--daemon-url", "WAIAAS_URL"])
def test_a_daemon_url_that_names_no_daemon_is_a_usage_error(
    tmp_path: Path, url: str, where: str
) -> None:
    if where == "WAIAAS_URL":
        code, out = run([], tmp_path, env={"WAIAAS_URL": url})
    else:
        code, out = run(["--daemon-url", url], tmp_path)
    assert code == 2, out
    assert "is not an http:// or https:// URL with a host" in out
    assert TOKEN[9:] not in out


@pytest.mark.parametrize(
    "url",
    [
        "http://bob:hunter2pass@127.0.0.1:3100",
        "https://hunter2pass@daemon.example",
        "http://bob:hunter2pass@",  # no host either: refused without quoting it
    ],
)
@pytest.mark.parametrize("where", ["--daemon-url", "WAIAAS_URL"])
def test_a_daemon_url_with_credentials_is_refused_and_never_quoted(
    tmp_path: Path, url: str, where: str
) -> None:
    """Reproduction: serve --daemon-url http://bob:hunter2pass@127.0.0.1:PORT sent Basic
    auth instead of the token (every run 401) and /status showed the password."""
    if where == "WAIAAS_URL":
        code, out = run([], tmp_path, env={"WAIAAS_URL": url})
    else:
        code, out = run(["--daemon-url", url], tmp_path)
    assert code == 2, out
    assert "carries credentials" in out or "(not shown: it has an @)" in out
    assert "hunter2pass" not in out


@pytest.mark.parametrize("run_id", ["a/b", "", " x", "x y", "../x", "-x", "x" * 129, "é"])
def test_a_run_id_that_would_make_send_keys_ambiguous_is_refused(
    tmp_path: Path, run_id: str
) -> None:
    code, out = run(["--run-id", run_id], tmp_path)
    assert code == 2, out
    assert "Invalid value for '--run-id'" in out
    assert run_id_problem(run_id) is not None


@pytest.mark.parametrize("run_id", ["nightly-2026-01-05", "20260105T091500Z-slot-c2a2aef3", "a"])
def test_accepted_run_ids_round_trip_through_the_send_key(run_id: str) -> None:
    assert run_id_problem(run_id) is None
    key = SendKey("quickstart", run_id, "fund")
    assert SendKey.parse(str(key)) == key


def test_a_scenario_run_id_follows_the_same_rule(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.test.yaml"
    scenario.write_text(
        f"playbook: {ROOT / 'playbooks' / 'keep-agent-usdc.yaml'}\n"
        'cases:\n  - name: x\n    run_id: "a/b"\n    expect: { exit_code: 0 }\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["test", str(scenario)])
    assert result.exit_code == 2, result.output
    assert "bad.test.yaml:4:13: cases[0].run_id:" in result.output
