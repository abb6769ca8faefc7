# ruff: noqa: E501 - cases read best one per line
"""libyaml and the pure-Python parser give the same data, positions and problems.

The loader composes with libyaml when PyYAML has it and falls back to the pure-Python
parser otherwise; every guarantee must hold on both paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.playbook import PlaybookError, load_playbook
from runner.playbook.loader import COMPOSERS, PythonComposer, load_yaml
from tests.playbook.test_broken_corpus import CASES, FULL, HEAD
from tests.playbook.test_numbers import SPELLINGS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    path
    for path in [*ROOT.glob("playbooks/**/*.yaml"), *ROOT.glob("examples/*.yaml")]
    if not path.name.endswith(".test.yaml")  # scenario files: tests/scenario loads them
)
TEXTS = {
    **{path.name: path.read_text(encoding="utf-8") for path in SHIPPED},
    **{name: body.removeprefix(FULL) if body.startswith(FULL) else HEAD + body for name, body, _ in CASES},
    **{f"number {s}": f"a: {s}\nb: [{s}]\n" for s in SPELLINGS},
    "unicode columns": "é: {ü: 'x', ö: 010}\nname: ñ\n",
    "aliases": "a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2\n",
    "tags": "a: !!str 010\nb: !!int 10\nc: !!float 0.5\n",
    "block scalars": "a: |\n  text\n  1:30\nb: >\n  folded\n",
}  # fmt: skip


def _outcome(text: str, composer: type[Any]) -> object:
    try:
        data, source = load_yaml(text, "f.yaml", composer)
    except PlaybookError as error:
        return [d.format() for d in error.diagnostics]
    return data, source.keys, source.values, source.scalars


@pytest.mark.skipif(len(COMPOSERS) < 2, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_both_composers_agree(name: str) -> None:
    libyaml, python = COMPOSERS
    assert _outcome(TEXTS[name], libyaml) == _outcome(TEXTS[name], python)


def test_libyaml_is_the_default_when_available() -> None:
    import yaml

    assert (COMPOSERS[0] is not PythonComposer) == bool(yaml.__with_libyaml__)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_without_libyaml_every_shipped_playbook_still_loads(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runner.playbook.loader.COMPOSERS", (PythonComposer,))
    assert load_playbook(path).version == 1


@pytest.mark.parametrize("composer", COMPOSERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "f.yaml:2:1: a: duplicate key 'a'"),
        ("a: !!python/object/apply:os.system [ls]\n", "tag '!!python/object/apply:os.system'"),
        ("a: &a [*a]\n", "recursive alias"),
        ("a: *nope\n", "found undefined alias 'nope'"),
        ("a: 1:30\n", "f.yaml:1:4: a: 1:30 is base-60 notation"),
        ("é: [ü, 0x2]\n", "f.yaml:1:8: é[1]: 0x2 is hexadecimal"),
        ("a:\n\t- b\n", "found character '\\t' that cannot start any token"),
        ("a: \x07\n", "character #x0007 is not allowed"),
    ],
)
def test_guarantees_hold_on_each_path(composer: type[Any], text: str, message: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_yaml(text, "f.yaml", composer)
    assert message in str(caught.value)


@pytest.mark.skipif(len(COMPOSERS) < 2, reason="PyYAML was built without libyaml")
def test_the_one_known_difference_a_tab_after_a_colon() -> None:
    """libyaml takes a tab as the space after ``key:`` (YAML allows tabs as separation);
    PyYAML's pure-Python scanner refuses it. Same data where both accept; never a
    different reading of a value."""
    libyaml, python = COMPOSERS
    assert load_yaml("a:\t1\n", "f.yaml", libyaml)[0] == {"a": 1}
    with pytest.raises(PlaybookError, match="found character '\\\\t'"):
        load_yaml("a:\t1\n", "f.yaml", python)


@pytest.mark.parametrize("composer", COMPOSERS, ids=lambda c: c.__name__)
def test_number_like_keys_stay_their_text(composer: type[Any]) -> None:
    text = "a: {010: x, 1:30: y, 0x10: z, 1e3: w, 10: v}\n"
    data, _ = load_yaml(text, "f.yaml", composer)
    assert data == {"a": {"010": "x", "1:30": "y", "0x10": "z", "1e3": "w", "10": "v"}}
