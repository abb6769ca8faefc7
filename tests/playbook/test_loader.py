"""The YAML loader: positions, safety, and the YAML 1.1 traps it defuses."""

from __future__ import annotations

import pytest

from runner.playbook.diagnostics import PlaybookError
from runner.playbook.loader import Position, SourceFloat, load_yaml


def test_positions_of_keys_values_and_items() -> None:
    data, source = load_yaml("a:\n  b: [x, 'y']\n", "f.yaml")
    assert data == {"a": {"b": ["x", "y"]}}
    assert source.keys[("a", "b")] == Position(2, 3)
    assert source.values[("a", "b", 1)] == Position(2, 10)
    assert source.scalars[("a", "b", 1)].style == "'"


def test_anchors_aliases_and_merge_keys_work() -> None:
    text = "base: &b {network: base-sepolia, decimals: 6}\ncopy:\n  <<: *b\n  decimals: 18\n"
    data, source = load_yaml(text, "f.yaml")
    assert data["copy"] == {"network": "base-sepolia", "decimals": 18}
    assert source.keys[("copy", "decimals")] == Position(4, 3)  # the explicit key wins


def test_floats_keep_their_source_text() -> None:
    data, _ = load_yaml("a: 0.10\n", "f.yaml")
    assert isinstance(data["a"], SourceFloat)
    assert data["a"].source == "0.10"


def test_keys_are_text_and_timestamps_stay_text() -> None:
    data, _ = load_yaml("on: [failure]\nwhen: 2024-01-01\n", "f.yaml")
    assert data == {"on": ["failure"], "when": "2024-01-01"}


def test_all_duplicate_keys_are_reported_at_once() -> None:
    with pytest.raises(PlaybookError) as caught:
        load_yaml("a: 1\na: 2\nb: {c: 1, c: 2}\n", "f.yaml")
    assert [d.format() for d in caught.value.diagnostics] == [
        "f.yaml:2:1: a: duplicate key 'a' (first defined at line 1, column 1)",
        "f.yaml:3:11: b.c: duplicate key 'c' (first defined at line 3, column 5)",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/name:os.system x\n", "tag '!!python/name:os.system' is not allowed"),
        ("a: !custom x\n", "tag '!custom' is not allowed"),
        ("a: &a [*a]\n", "recursive alias"),
        ("[" * 1200 + "]" * 1200, "nest"),  # "nested too deeply" or "nesting deeper than 64"
        ("a: 1\n---\nb: 2\n", "expected a single document"),
        ("", "empty document"),
        ("a: !!binary aGVsbG8=\n", "tag '!!binary' is not allowed"),
    ],
)
def test_unsafe_or_unusable_documents_are_refused(text: str, message: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_yaml(text, "f.yaml")
    assert message in str(caught.value)


def test_billion_laughs_is_bounded() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(PlaybookError, match="document too large"):
        load_yaml("\n".join(lines) + "\n", "f.yaml")
