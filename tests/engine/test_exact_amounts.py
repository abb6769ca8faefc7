"""Accepted amount spellings send exactly the amount written (issue #10): what the sandbox
daemon records is the smallest-unit integer the playbook's digits say, never a YAML 1.1
reinterpretation, a float or a rounding."""

from __future__ import annotations

import pytest

from runner.engine.results import ExitCode
from tests.engine.conftest import Engine, outputs


@pytest.mark.parametrize(
    ("vars_and_amount", "raw"),
    [
        ("amount: {raw: 100000000000000, token: ETH}", "100000000000000"),  # not octal
        ("amount: {raw: 130, token: ETH}", "130"),
        ('amount: "0.000000000000000001 ETH"', "1"),
        ('amount: "1500 wei"', "1500"),
        ('amount: "0100 gwei"', "100000000000"),  # text: decimal digits, as written
        ('amount: "1_000 wei"', "1000"),
        ('amount: "${{ vars.n * 1000 }}"', "1000"),
        ("amount: \"${{ amount(vars.k, 'wei') }}\"", "10"),
    ],
)
async def test_accepted_forms_send_exactly_the_amount_written(
    engine: Engine, vars_and_amount: str, raw: str
) -> None:
    body = (
        'vars:\n  n: "1 wei"\n  k: 10\n'
        "steps:\n  - id: s\n"
        f"    send: {{ from: treasury, to: agent, {vars_and_amount} }}\n"
    )
    result, _, _ = await engine.execute(body)
    assert result.exit_code is ExitCode.OK, result.summary()
    sent = outputs(result, "s")
    transaction = engine.sandbox.core.store.tx(sent["id"])
    assert transaction is not None and transaction.amount == raw
    assert str(sent["raw"]) == raw
