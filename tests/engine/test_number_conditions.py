"""A condition on a raw amount decides a send by value (issue #19 part 3), against the
sandbox daemon: ``==``/``!=``/``in`` between a send's or a balance's raw amount and a
literal agree with ``>=``/``<=``."""

from __future__ import annotations

from runner.engine.results import ExitCode, StepStatus
from tests.engine.conftest import Engine, outputs, statuses

BODY = """\
steps:
  - id: first
    send: { from: treasury, to: agent, amount: "0.02 ETH" }
  - id: equal
    if: steps.first.raw == 20000000000000000
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
  - id: unequal
    if: steps.first.raw != 20000000000000000
    send: { from: treasury, to: agent, amount: "0.5 ETH" }
  - id: listed
    if: steps.first.raw in [1, 20000000000000000] and steps.first.raw not in [0]
    log: listed
  - id: bal
    balance: { wallet: agent }
  - id: nonzero
    if: steps.bal.raw != 0 and steps.bal.decimals == 18.0
    log: "agent holds ${{ steps.bal.raw }} wei"
"""


async def test_raw_amount_conditions_decide_by_value(engine: Engine) -> None:
    result, _, _ = await engine.execute(BODY)
    assert result.exit_code is ExitCode.OK, result.summary()
    assert statuses(result) == {
        "first": StepStatus.OK,
        "equal": StepStatus.OK,
        "unequal": StepStatus.SKIPPED,
        "listed": StepStatus.OK,
        "bal": StepStatus.OK,
        "nonzero": StepStatus.OK,
    }
    store = engine.sandbox.core.store
    treasury = engine.sandbox.wallet("treasury")["id"]
    amounts = sorted(tx.amount for tx in store.list_txs(treasury, 100, None))
    assert amounts == ["1000000000000000", "20000000000000000"]  # exactly the intended two
    assert outputs(result, "equal")["sent"] is True
