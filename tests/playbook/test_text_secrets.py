"""A session token anywhere in a file's text is refused, located and masked (issue #19
part 4): comments included, in every file the loader reads (playbook, runner config,
scenario test file), with either YAML parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.engine.config import parse_config
from runner.playbook import load_playbook_text
from runner.playbook.diagnostics import Diagnostic, PlaybookError, render_json, render_text
from runner.playbook.loader import COMPOSERS, load_yaml
from runner.scenario.load import load_scenario
from tests.cli.test_validate import VALID
from tests.scenario.test_files import PLAYBOOK as SCENARIO_PLAYBOOK

SECRET = "eyJhbGciOiJIUzI1NiJ9.c2Vzc2lvbi1zZWNyZXQ.c2lnbmF0dXJl"
TOKEN = f"wai_sess_{SECRET}"
# name -> (text, [(line, column, key path)] of the problems)
PLACES: dict[str, tuple[str, list[tuple[int, int, str]]]] = {
    "comment_line": (VALID + f"# old token: {TOKEN}\n", [(7, 14, "")]),
    "first_line_comment": (f"# {TOKEN}\n" + VALID, [(1, 3, "")]),
    "comment_after_value": (
        VALID.replace("log: hello", f"log: hello  # {TOKEN}"),
        [(6, 19, "")],
    ),
    "comment_in_flow_mapping": (VALID + f"vars: {{a: 1,  # {TOKEN}\n  b: 2}}\n", [(7, 17, "")]),
    "comment_in_flow_sequence": (
        VALID + f"vars:\n  xs: [1,  # {TOKEN}\n    2]\n",
        [(8, 14, "")],
    ),
    "comment_on_block_header": (
        VALID + f"description: |  # {TOKEN}\n  text\n",
        [(7, 19, "")],
    ),
    "indented_comment": (VALID.replace("steps:\n", f"steps:\n    # {TOKEN}\n"), [(6, 7, "")]),
    "uppercase_prefix": (VALID + f"# WAI_SESS_{SECRET}\n", [(7, 3, "")]),
    "bare_jwt_in_comment": (VALID + f"# {SECRET}\n", [(7, 3, "")]),
    "crlf_file": ((VALID + f"# {TOKEN}\n").replace("\n", "\r\n"), [(7, 3, "")]),
    "cr_only_file": ((VALID + f"# {TOKEN}\n").replace("\n", "\r"), [(7, 3, "")]),
    "in_block_scalar": (VALID + f"description: |\n  see {TOKEN}\n", [(7, 14, "description")]),
    "in_value": (VALID + f'vars:\n  x: "Bearer {TOKEN}"\n', [(8, 6, "vars.x")]),
    "in_key": (VALID + f"vars:\n  {TOKEN}: 1\n", [(8, 3, "vars.wai_sess_…")]),
    "value_and_comment": (
        VALID + f"vars:\n  x: {TOKEN}  # {TOKEN}\n",
        [(8, 6, "vars.x"), (8, 6 + len(TOKEN) + 4, "")],
    ),
    "twice_in_one_value": (VALID + f"vars:\n  x: '{TOKEN} {TOKEN}'\n", [(8, 6, "vars.x")]),
    "with_a_syntax_error": (VALID + f"# {TOKEN}\nvars: [1,\n", [(7, 3, ""), (9, 1, "")]),
}


def _problems(error: PlaybookError) -> list[tuple[int, int, str]]:
    return sorted((d.line, d.column, ".".join(map(str, d.path))) for d in error.diagnostics)


def _assert_masked(diagnostics: list[Diagnostic]) -> None:
    for shown in (render_text(diagnostics), render_json({"p.yaml": diagnostics})):
        assert SECRET not in shown and "c2Vzc2lvbi1zZWNyZXQ" not in shown


@pytest.mark.parametrize("composer", COMPOSERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_token_anywhere_in_the_text_is_located_and_masked(place: str, composer: Any) -> None:
    text, expected = PLACES[place]
    with pytest.raises(PlaybookError) as caught:
        load_yaml(text, "p.yaml", composer)
    found = _problems(caught.value)
    if place == "with_a_syntax_error":  # the syntax problem's position is the parser's
        assert found[0] == expected[0] and "invalid YAML" in caught.value.diagnostics[-1].message
    else:
        assert found == expected
    assert any("literal session token" in d.message for d in caught.value.diagnostics)
    _assert_masked(caught.value.diagnostics)


def test_a_comment_token_says_it_is_in_the_text() -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(VALID + f"# {TOKEN}\n", "p.yaml")
    (problem,) = caught.value.diagnostics
    assert problem.format().startswith("p.yaml:7:3: literal session token in the playbook's text")
    assert "${{ env.WAIAAS_SESSION_TOKEN }}" in problem.message


def test_a_token_built_by_escapes_is_still_refused() -> None:
    # "\x5f" is "_": the text holds no token, the value does
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(VALID + 'vars:\n  x: "wai\\x5fsess_abc.def"\n', "p.yaml")
    assert _problems(caught.value) == [(8, 6, "vars.x")]


@pytest.mark.parametrize(
    "text",
    [
        VALID + "# the token comes from env.TOKEN (a JWT: three base64 parts)\n",
        VALID + "# eyJ alone is not a token\n",
        VALID.replace("log: hello", "log: 'wai-sess is not the prefix'"),
    ],
)
def test_text_about_tokens_without_one_still_loads(text: str) -> None:
    assert load_playbook_text(text, "p.yaml").name == "ok"


def test_the_runner_config_refuses_a_token_in_a_comment() -> None:
    for text, where in (
        (f'# {TOKEN}\nlimits: {{max_per_send: "1 ETH"}}\n', (1, 3)),
        (f"# only a comment: {TOKEN}\n", (1, 19)),  # an all-comment config is read too
        (f'limits: {{max_per_send: "1 ETH"}}  # {TOKEN}\n', (1, 36)),
    ):
        with pytest.raises(PlaybookError) as caught:
            parse_config(text, "c.yaml")
        (problem,) = caught.value.diagnostics
        assert (problem.line, problem.column) == where
        assert "literal session token in the runner config's text" in problem.message
        _assert_masked(caught.value.diagnostics)


def test_the_cli_refuses_a_config_with_a_token_in_a_comment(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f'limits: {{max_per_send: "1 ETH"}}\n# {TOKEN}\n', encoding="utf-8")
    playbook = tmp_path / "p.yaml"
    playbook.write_text(VALID, encoding="utf-8")
    result = CliRunner().invoke(main, ["plan", "--config", str(config), str(playbook)])
    assert result.exit_code == 2, result.output
    assert f"{config}:2:3: literal session token" in result.output
    assert SECRET not in result.output


def test_a_scenario_file_refuses_a_token_in_a_comment(tmp_path: Path) -> None:
    (tmp_path / "tiny.yaml").write_text(SCENARIO_PLAYBOOK, encoding="utf-8")
    path = tmp_path / "tiny.test.yaml"
    path.write_text(f"cases:\n  - name: x  # {TOKEN}\n    expect: {{exit_code: 0}}\n", "utf-8")
    with pytest.raises(PlaybookError) as caught:
        load_scenario(path)
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.column) == (2, 16)
    assert "literal session token in the test file's text" in problem.message
    result = CliRunner().invoke(main, ["test", str(path)])
    assert result.exit_code == 2 and SECRET not in result.output


@pytest.mark.parametrize("output", ["text", "json"])
def test_validate_exits_2_and_never_prints_the_token(tmp_path: Path, output: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(VALID + f"# {TOKEN}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--output", output, str(path)])
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output
    if output == "json":
        (problem,) = json.loads(result.stdout)["files"][0]["errors"]
        assert (problem["line"], problem["column"]) == (7, 3)
    else:
        assert f"{path}:7:3: literal session token" in result.output
