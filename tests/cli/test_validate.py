"""`waiaas-run validate`: exit codes, text and JSON output, directories, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from runner.cli import main

ROOT = Path(__file__).resolve().parents[2]
VALID = """\
version: 1
name: ok
daemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}", wallet: main}
wallets: {main: {name: main, network: ethereum-sepolia}}
steps:
  - log: hello
"""
BROKEN = VALID.replace("  - log: hello\n", "  - send: {to: main, amount: 0.1}\n  - lgo: x\n")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_shipped_playbooks_and_examples_are_valid() -> None:
    # examples/ also holds Kubernetes manifests and CI workflows: only its top level is playbooks
    examples = sorted(str(path) for path in (ROOT / "examples").glob("*.yaml"))
    code, out, err = run(str(ROOT / "playbooks"), *examples)
    assert (code, out) == (0, "")
    assert err.strip().endswith("playbooks valid")


def test_invalid_playbook_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    code, out, err = run(str(path))
    assert code == 2
    assert out.splitlines() == [
        f"{path}:6:30: steps[0].send.amount: amount 0.1 is a YAML number; amounts need a unit "
        'and quotes, e.g. "0.1 ETH"',
        f"{path}:7:5: steps[1]: unknown step kind 'lgo' (did you mean 'log'?)",
    ]
    assert err.strip() == "1 of 1 playbook invalid"


def test_json_output_has_the_same_problems(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yml").write_text(BROKEN, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a playbook", encoding="utf-8")
    code, out, _ = run("--output", "json", str(tmp_path))
    assert code == 2
    report = json.loads(out)
    assert report["valid"] is False
    assert [(f["file"].rsplit("/", 1)[-1], f["valid"]) for f in report["files"]] == [
        ("a.yaml", True),
        ("b.yml", False),
    ]
    first = report["files"][1]["errors"][0]
    assert first == {
        "file": str(tmp_path / "b.yml"),
        "line": 6,
        "column": 30,
        "path": "steps[0].send.amount",
        "message": 'amount 0.1 is a YAML number; amounts need a unit and quotes, e.g. "0.1 ETH"',
    }


def test_directories_are_searched_recursively_except_hidden_ones(tmp_path: Path) -> None:
    nested = tmp_path / "team" / "ops"
    nested.mkdir(parents=True)
    (nested / "deep.yaml").write_text(VALID, encoding="utf-8")
    hidden = tmp_path / ".venv" / "lib"
    hidden.mkdir(parents=True)
    (hidden / "not-a-playbook.yaml").write_text("a: 1\n", encoding="utf-8")
    code, _, err = run(str(tmp_path))
    assert code == 0
    assert err.strip() == "1 playbook valid"


def test_unreadable_or_binary_input_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    code, out, _ = run(str(path))
    assert code == 2
    assert out.strip() == f"{path}:1:1: cannot read playbook: not UTF-8 text"


def test_literal_token_is_reported_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(VALID.replace('"${{ env.TOKEN }}"', "wai_sess_eyJhbGciOiJIUzI1NiJ9.secret"))
    code, out, _ = run(str(path))
    assert code == 2
    assert "literal session token" in out
    assert "eyJhbGciOiJIUzI1NiJ9" not in out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(str(tmp_path / "missing.yaml"))[0] == 2
    assert run()[0] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(str(empty))
    assert code == 2
    assert "no *.yaml or *.yml playbooks found" in err
