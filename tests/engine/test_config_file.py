# ruff: noqa: E501 - cases read best one per line
"""The runner config file (--config) and --var numbers follow the playbook's rules."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from runner.engine.config import RunnerConfig, load_config, parse_config
from runner.engine.scope import parse_var_override
from runner.errors import UsageError
from runner.playbook import load_playbook_text
from runner.playbook.amounts import AmountLiteral
from runner.playbook.diagnostics import PlaybookError
from runner.playbook.facts import Facts
from tests.engine.conftest import playbook_text
from tests.engine.test_exit_codes import EXAMPLES, assert_exit, invoke

CASES = [
    (
        'limits:\n  max_per_send: "0.5 ETH"\n  max_per_send: "50 ETH"\n',
        "c.yaml:3:3: limits.max_per_send: duplicate key 'max_per_send' (first defined at "
        "line 2, column 3)",
    ),
    (
        'limits:\n  max_per_sned: "0.5 ETH"\n',
        "c.yaml:2:3: limits.max_per_sned: unknown key 'max_per_sned' (did you mean "
        "'max_per_send'?)",
    ),
    ('limits:\n  max_sends_per_run: 010\n', "c.yaml:2:22: limits.max_sends_per_run: 010 has a leading zero"),
    ('limits:\n  max_per_send: {raw: 1:30, token: ETH}\n', "c.yaml:2:23: limits.max_per_send.raw: 1:30 is base-60"),
    ('limits:\n  max_per_send: ["1 ETH", "0.5 eth"]\n', "c.yaml:2:27: limits.max_per_send[1]: unknown unit 'eth' (did you mean 'ETH'?)"),
    ('limits:\n  max_per_send: 0.5\n', "c.yaml:2:17: limits.max_per_send: amount 0.5 is a YAML number"),
    ("limits: !!python/object:os.system {}\n", "c.yaml:1:9: tag '!!python/object:os.system' is not allowed"),
    ("- limits\n", "c.yaml:1:1: the runner config is a mapping (limits: ...)"),
    ("limits: {max_per_send: \"1 ETH\"\n", "c.yaml:2:1: invalid YAML: expected ',' or '}'"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_config_problems_are_located(text: str, expected: str) -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_config(text, "c.yaml")
    assert any(d.format().startswith(expected) for d in caught.value.diagnostics), [
        d.format() for d in caught.value.diagnostics
    ]


def test_a_valid_config_and_an_empty_one() -> None:
    config = parse_config('limits:\n  max_per_send: ["0.5 ETH", "10 USDC"]\n', "c.yaml")
    assert config.limits.max_per_send[0] == AmountLiteral(Decimal("0.5"), "ETH", "0.5 ETH")
    assert parse_config("# nothing yet\n\n", "c.yaml") == RunnerConfig()


def test_load_config_turns_problems_into_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text('limits:\n  max_per_send: "0.5 ETH"\n  max_per_send: "50 ETH"\n')
    with pytest.raises(UsageError, match=rf"{path}:3:3: limits.max_per_send: duplicate key"):
        load_config(path)


def test_the_cli_exits_2_naming_the_config_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text('limits:\n  max_per_send: "0.5 ETH"\n  max_per_send: "50 ETH"\n')
    result = invoke(
        tmp_path, "run", "--sandbox", "--config", str(config), str(EXAMPLES / "quickstart.yaml")
    )
    assert_exit(result, 2)
    assert f"{config}:3:3: limits.max_per_send: duplicate key 'max_per_send'" in result.output


@pytest.mark.parametrize("written", ["NaN", "Infinity", "1e999999", "1_000", "010", "0x10", "+5"])
def test_numeric_var_overrides_follow_the_playbook_number_rule(written: str) -> None:
    facts = Facts(load_playbook_text(playbook_text("vars: {n: 5}\nsteps:\n  - log: hi\n")))
    with pytest.raises(UsageError, match="plain decimal digits"):
        parse_var_override("n", written, Decimal(5), facts)
    assert parse_var_override("n", "12.50", Decimal(5), facts) == Decimal("12.50")
