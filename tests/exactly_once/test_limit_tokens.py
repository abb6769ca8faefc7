"""Run-time halves of two limit rules: limits are per token (a token no cap names is not
sent), and allow_to compares EVM addresses without regard to case."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.engine.results import ExitCode, StepStatus
from tests.exactly_once.conftest import STRANGER, Harness, reason

SEND_VAR = (
    'vars:\n  to: agent\n  amount: "0.001 ETH"\nsteps:\n  - id: send1\n'
    '    send: { from: treasury, to: "${{ vars.to }}", amount: "${{ vars.amount }}" }\n'
)


async def test_a_token_no_config_cap_covers_is_not_sent(harness: Harness, tmp_path: Path) -> None:
    config = tmp_path / "runner-config.yaml"
    config.write_text('limits:\n  max_per_send: "5 USDC"\n', encoding="utf-8")

    result, _ = await harness.run(SEND_VAR, config=config)

    assert result.exit_code is ExitCode.FAILED
    assert result.steps[0].status is StepStatus.FAILED
    assert "limit per token (runner config): no amount limit covers ETH" in reason(result, "send1")
    assert harness.tx_count() == 0 and harness.sends() == []


@pytest.mark.parametrize(
    ("allowed", "to"),
    [
        (STRANGER.lower(), STRANGER),
        (STRANGER, STRANGER.lower()),
        ("0x" + STRANGER[2:].upper(), STRANGER.lower()),
    ],
)
async def test_allow_to_matches_an_address_in_any_case(
    harness: Harness, allowed: str, to: str
) -> None:
    body = f'limits: {{ allow_to: ["{allowed}"], max_per_send: "1 ETH" }}\n' + SEND_VAR.replace(
        "to: agent", f'to: "{allowed}"'
    )

    result, _ = await harness.run(body, variables={"to": to})

    assert result.exit_code is ExitCode.OK, result.summary()
    assert harness.tx_count() == 1
