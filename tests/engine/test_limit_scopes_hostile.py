"""Hostile cases for whose sends a cap counts (issue #19 part 2), against the sandbox:
USDC of another chain in the ledger, a config cap and a playbook cap on one send (each
refusal names its own scope, and the stricter one refuses), and two playbooks sharing the
config's cap but never each other's playbook caps."""

from __future__ import annotations

import pytest

from runner.engine.results import ExitCode
from runner.ledger import Ledger
from tests.engine.conftest import Engine, outputs, step
from tests.engine.test_limit_scopes import _record, named, run_file, send_body


async def test_usdc_of_another_chain_never_counts(engine: Engine) -> None:
    """Same symbol, same playbook name, same config: base-sepolia's USDC is another token."""
    with Ledger(engine.state, clock=engine.sandbox.clock) as ledger:
        _record(ledger, "usdc/r0/pay", "usdc", 90 * 10**6, "base-sepolia", "USDC")
        _record(ledger, "other/r0/pay", "other", 90 * 10**6, "base-sepolia", "USDC")
    config = 'limits: { max_per_day: "100 USDC" }\n'
    body = send_body("100 USDC", 'limits: { max_per_day: "100 USDC" }')

    result = await run_file(engine, named(engine, "usdc", body), config=config)

    assert result.exit_code is ExitCode.OK, result.summary()
    assert outputs(result, "pay")["network"] == "ethereum-sepolia"
    assert engine.sandbox.transaction_count() == 1
    # the same chain's USDC does count, in both scopes
    again = await run_file(engine, named(engine, "usdc", send_body("1 USDC")), config=config)
    assert again.exit_code is ExitCode.FAILED
    assert (step(again, "pay").reason or "").startswith(
        "limit max_per_day (runner config): 100 USDC already sent in the last 24 h"
    )
    assert engine.sandbox.transaction_count() == 1


@pytest.mark.parametrize(
    ("playbook_cap", "config_cap", "refused_by"),
    [
        ("0.01 ETH", "1 ETH", "playbook"),
        ("1 ETH", "0.01 ETH", "runner config"),
        ("0.01 ETH", "0.01 ETH", "playbook"),  # both at once: the playbook's is checked first
    ],
)
async def test_the_stricter_of_two_caps_refuses_and_names_its_scope(
    engine: Engine, playbook_cap: str, config_cap: str, refused_by: str
) -> None:
    with Ledger(engine.state, clock=engine.sandbox.clock) as ledger:
        _record(ledger, "both/r0/pay", "both", 8 * 10**15, "ethereum-sepolia")
    config = f'limits: {{ max_per_day: "{config_cap}" }}\n'
    body = send_body("0.005 ETH", f'limits: {{ max_per_day: "{playbook_cap}" }}')

    result = await run_file(engine, named(engine, "both", body), config=config)

    assert result.exit_code is ExitCode.FAILED
    reason = step(result, "pay").reason or ""
    assert reason.startswith(f"limit max_per_day ({refused_by}): 0.008 ETH already sent")
    counting = "this playbook's" if refused_by == "playbook" else "every playbook's"
    assert f"(counting {counting} sends" in reason and "on ethereum-sepolia" in reason
    assert engine.sandbox.transaction_count() == 0


async def test_two_playbooks_share_the_config_cap_but_not_each_others(engine: Engine) -> None:
    config = 'limits: { max_per_day: "0.02 ETH" }\n'
    own = 'limits: { max_per_day: "0.01 ETH" }'
    made = []
    for name in ("north", "south"):
        result = await run_file(
            engine, named(engine, name, send_body("0.008 ETH", own)), config=config
        )
        made.append(result.exit_code)
    assert made == [ExitCode.OK, ExitCode.OK]  # 0.008 each: neither playbook cap is eaten
    third = await run_file(
        engine, named(engine, "east", send_body("0.008 ETH", own)), config=config
    )
    assert third.exit_code is ExitCode.FAILED  # 0.016 + 0.008 > the config's 0.02
    assert "(runner config)" in (step(third, "pay").reason or "")
    assert engine.sandbox.transaction_count() == 2
