"""Random YAML and random mutations of valid playbooks: only clean validation errors come out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.playbook import PlaybookError, load_playbook_text

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    p.read_text(encoding="utf-8")
    for p in sorted([*ROOT.glob("playbooks/*.yaml"), *ROOT.glob("examples/*.yaml")])
    if not p.name.endswith(".test.yaml")  # scenario files are not playbooks
]
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

YAML_ALPHABET = st.sampled_from([*"ab:-{}[],#&*!|>'\"\n\t .0123456789$%@`?~<=", "${{", "}}"])
EXPRESSION_ALPHABET = st.sampled_from(
    [
        *"()+-*/<>=!.,'\" 0123456789_[]{}:",
        "steps",
        "vars",
        "env",
        "run",
        "amount",
        "__class__",
        " and ",
        " or ",
        "not ",
        "**",
        "lambda",
        "ETH",
        "agent",
        "max",
        "len",
        "${{",
        "}}",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["0.05 ETH", "1500 wei", "${{ steps.agent.amount }}", "yes", "30m", "agent"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def load_cleanly(text: str) -> None:
    """Loading either succeeds or raises PlaybookError with located problems; nothing else."""
    try:
        load_playbook_text(text, "fuzz.yaml")
    except PlaybookError as error:
        assert error.diagnostics
        for problem in error.diagnostics:
            assert problem.line >= 1 and problem.column >= 1
            assert problem.message


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    load_cleanly(text)


@FUZZ
@given(st.lists(YAML_ALPHABET, max_size=120).map("".join))
def test_random_yaml_like_text(text: str) -> None:
    load_cleanly(text)


@FUZZ
@given(st.data())
def test_text_mutations_of_valid_playbooks(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(SOURCES))
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(text)))
        removed = data.draw(st.integers(0, 5))
        inserted = data.draw(st.lists(YAML_ALPHABET, max_size=6).map("".join))
        text = text[:position] + inserted + text[position + removed :]
    load_cleanly(text)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@FUZZ
@given(st.data())
def test_structural_mutations_of_valid_playbooks(data: st.DataObject) -> None:
    document = yaml.safe_load(data.draw(st.sampled_from(SOURCES)))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(document)[1:]))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        operation = data.draw(st.sampled_from(["replace", "delete", "expression"]))
        if operation == "delete":
            del parent[path[-1]]
        elif operation == "expression":
            body = data.draw(st.lists(EXPRESSION_ALPHABET, max_size=12).map("".join))
            parent[path[-1]] = f"${{{{ {body} }}}}"
        else:
            parent[path[-1]] = data.draw(VALUES)
    load_cleanly(yaml.safe_dump(document, sort_keys=False))


@FUZZ
@given(st.lists(EXPRESSION_ALPHABET, max_size=25).map("".join))
def test_random_conditions(body: str) -> None:
    text = SOURCES[0].replace(
        "if: steps.agent.amount < vars.floor",
        f"if: {yaml.safe_dump(body).strip().removesuffix('...').strip()}",
    )
    load_cleanly(text)


TRICKY_SCALARS = [
    ".inf",
    "-.inf",
    ".nan",
    "1:30",
    "1:30.5",
    "0o17",
    "0x1F",
    "017",
    "~",
    "null",
    "yes",
    "off",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    "1e3",
    "1.5e+3",
    "9" * 5000,
    "!!binary aGk=",
    "!x y",
    "*undefined",
    "&a",
    "'",
    '"',
    "[",
    "{",
    "|",
    ">",
    "- x",
    "? x",
    "%",
    "@x",
    "`x`",
    "0.1",
    "-1",
    "'wai_sess_x'",
    "${{ }}",
    "'${{ 1/0 }}'",
    "'${{ vars.__class__ }}'",
    "{raw: -1, token: ETH}",
]


@FUZZ
@given(st.data())
def test_tricky_scalars_in_any_value_position(data: st.DataObject) -> None:
    lines = data.draw(st.sampled_from(SOURCES)).splitlines()
    candidates = [
        i for i, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")
    ]
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.sampled_from(candidates))
        key = lines[index].split(": ", 1)[0]
        lines[index] = f"{key}: {data.draw(st.sampled_from(TRICKY_SCALARS))}"
    load_cleanly("\n".join(lines) + "\n")
