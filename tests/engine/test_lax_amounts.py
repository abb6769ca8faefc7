"""Amount text given at run time (``--var top_up="…"``) meets the written rule: ASCII
digits, grouped by single underscores at most. Python's Decimal() reads "1__0", "_1",
"1_" and Arabic-Indic digits as numbers, so such a typo must stop the run before any
request (never send what the playbook did not say)."""

from __future__ import annotations

import pytest

from runner.errors import UsageError
from tests.engine.conftest import Engine

LAX = ["1__0", "_1", "1_", "1._5", "1.5_", "\u0661", "1_000_", "NaN", "+1", "1e3"]
BODY = """
vars:
  top_up: "0.001 ETH"
  count: 1
steps:
  - id: pay
    send: { from: treasury, to: agent, amount: "${{ vars.top_up }}" }
"""


@pytest.mark.parametrize("number", LAX)
async def test_a_lax_amount_given_at_run_time_stops_the_run(engine: Engine, number: str) -> None:
    with pytest.raises(UsageError, match="--var top_up"):
        await engine.run(BODY, variables={"top_up": f"{number} ETH"})
    with pytest.raises(UsageError, match="--var count"):
        await engine.run(BODY, variables={"count": number})
    assert engine.sandbox.transaction_count() == 0


async def test_grouped_digits_are_read_as_written(engine: Engine) -> None:
    result, _ = await engine.run(BODY, "plan", variables={"top_up": "0.000_5 ETH"})
    assert result.exit_code == 0
