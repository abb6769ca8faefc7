"""The mutation corpus: small mistakes in the shipped playbooks, each refused where it is made.

The mutations are generated from the shipped files (``tests/playbook/mutations.py``), so a
new recipe is covered as soon as it is added. Each one goes through ``waiaas-run validate``
in-process and must end with exit 2, a ``file:line:col:`` problem on the mutated line (or
the line beside it; a removed key may be reported at its parent), and no traceback. The
encodings that do not change meaning (a BOM, CRLF or CR line ends) must load to the very
same playbook, and keep every position right.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.playbook import PlaybookError, load_playbook, load_playbook_text
from tests.playbook.mutations import (
    ROOT,
    Mutation,
    invalid_mutations,
    same_meaning,
    shipped_playbooks,
)

SHIPPED = shipped_playbooks()
LOCATED = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<column>\d+): ", re.MULTILINE)
RECIPE_ROW = re.compile(r"^\| `(?P<name>[\w-]+\.yaml)` \|", re.MULTILINE)


def validate(file: Path) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(main, ["validate", str(file)])
    return result.exit_code, result.output, result.exception


def refusal_problem(mutation: Mutation, file: Path) -> str | None:
    """What is wrong with how ``validate`` answered the mutation (None: all is right)."""
    code, output, exception = validate(file)
    if exception is not None and not isinstance(exception, SystemExit):
        return f"raised {exception!r}"
    if "Traceback" in output:
        return "printed a traceback"
    if code != 2:
        return f"exit {code}, expected 2"
    lines = {int(found["line"]) for found in LOCATED.finditer(output) if found["file"] == str(file)}
    if not lines & mutation.lines:
        return f"no problem located on lines {sorted(mutation.lines)}"
    return None


def test_the_corpus_covers_every_shipped_playbook() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    in_table = set(RECIPE_ROW.findall(readme))
    names = {path.name for path in SHIPPED}
    assert in_table and in_table <= names  # every recipe of the README's table is mutated
    assert "quickstart.yaml" in names
    assert all(invalid_mutations(path) for path in SHIPPED)


@pytest.mark.parametrize("source", SHIPPED, ids=lambda path: path.name)
def test_every_mutation_is_refused_where_it_is_made(source: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    mutations = invalid_mutations(source)
    file = tmp_path / source.name
    failures = []
    rules: Counter[str] = Counter()
    for mutation in mutations:
        rules[mutation.rule] += 1
        file.write_text(mutation.text, encoding="utf-8")
        problem = refusal_problem(mutation, file)
        if problem is not None:
            failures.append(f"{mutation.id}: {problem}\n{validate(file)[1]}")
    assert not failures, f"{len(failures)} of {len(mutations)}:\n" + "\n".join(failures[:20])
    assert len(rules) >= 10, rules  # the rules found something to mutate in this playbook
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("source", SHIPPED, ids=lambda path: path.name)
def test_encodings_that_keep_the_meaning(source: Path, tmp_path: Path) -> None:
    original = load_playbook(source)
    for name, data in same_meaning(source).items():
        file = tmp_path / f"{name}-{source.name}"
        file.write_bytes(data)
        code, output, _ = validate(file)
        assert code == 0, f"{name}: {output}"
        assert load_playbook(file) == original, name


@pytest.mark.parametrize("encoding", ["bom", "crlf", "bom-crlf"])
def test_positions_survive_a_bom_and_crlf(encoding: str) -> None:
    """A mutation in a file with a BOM or CRLF line ends is reported on the same line and
    column as in the plain file."""
    for source in SHIPPED:
        for mutation in invalid_mutations(source)[::25]:
            plain = _problems(mutation.text)
            text = mutation.text.replace("\n", "\r\n") if "crlf" in encoding else mutation.text
            text = "\ufeff" + text if "bom" in encoding else text
            if "\t" in mutation.text:
                continue  # a tab's column is the parser's own either way
            assert _problems(text) == plain, mutation.id


def _problems(text: str) -> list[str]:
    try:
        load_playbook_text(text, "p.yaml")
    except PlaybookError as error:
        return [problem.format() for problem in error.diagnostics]
    return []


@pytest.mark.parametrize("command", ["run", "plan"])
def test_run_and_plan_refuse_the_mutations_as_validate_does(command: str, tmp_path: Path) -> None:
    """``run`` and ``plan`` load the playbook the same way: exit 2 with the same located
    problem, before any daemon is asked (the URL given here has nobody listening)."""
    environ = {
        "WAIAAS_SESSION_TOKEN": "wai_sess_not.a.token",
        "WAIAAS_RUNNER_STATE": str(tmp_path / "ledger.sqlite3"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    for source in SHIPPED:
        for mutation in invalid_mutations(source)[::40]:
            file = tmp_path / source.name
            file.write_text(mutation.text, encoding="utf-8")
            args = [command, "--daemon-url", "http://127.0.0.1:9", str(file)]
            result = CliRunner().invoke(main, args, env=environ)
            assert result.exit_code == 2, (mutation.id, result.output)
            lines = {int(found["line"]) for found in LOCATED.finditer(result.output)}
            assert lines & mutation.lines, (mutation.id, result.output)
            assert "Traceback" not in result.output
            assert not (tmp_path / "ledger.sqlite3").exists(), mutation.id
