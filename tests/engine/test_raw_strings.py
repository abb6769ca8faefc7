"""Smallest-unit amounts (``raw``) are a string of digits at every size in ``--output
json``, in webhooks and in the ledger's records, and numbers in expressions (issue 10)."""

from __future__ import annotations

import io
import json
from decimal import Decimal

from runner.engine.report import JsonReporter
from runner.engine.results import ExitCode
from runner.engine.values import decode, encode, plain
from runner.playbook.values import SmallestUnits
from tests.engine.conftest import Engine, Webhook, outputs, step


def test_plain_writes_digits_at_every_size() -> None:
    for raw in (0, 1, 2**53 - 1, 2**53, 2**53 + 1, 10**30, 2**256 - 1):
        assert plain(SmallestUnits(raw)) == str(raw)
    assert plain(Decimal(7)) == 7  # other numbers keep their JSON type


def test_the_ledger_keeps_them_smallest_units() -> None:
    stored = json.loads(json.dumps(encode({"raw": SmallestUnits(5)})))
    assert stored == {"raw": {"$units": "5"}}
    restored = decode(stored)
    assert isinstance(restored, dict) and isinstance(restored["raw"], SmallestUnits)
    assert decode({"raw": {"$decimal": "5"}}) == {"raw": Decimal(5)}  # older records still read


async def test_json_events_carry_strings_small_and_large(engine: Engine) -> None:
    result, _ = await engine.run(
        """
        steps:
          - id: usdc
            balance: { wallet: treasury, token: USDC }
          - id: pay
            send: { from: treasury, to: agent, amount: "1.5 USDC" }
          - id: eth
            balance: { wallet: treasury }
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    stream = io.StringIO()
    reporter = JsonReporter(stream)
    for finished in result.steps:
        reporter.step_finished(finished)
    events = {e["id"]: e["output"] for e in map(json.loads, stream.getvalue().splitlines())}
    assert events["usdc"]["raw"] == "5000000000"
    assert events["pay"]["raw"] == "1500000"
    assert events["eth"]["raw"] == "10000000000000000000"


async def test_expressions_still_read_a_number(engine: Engine) -> None:
    result, reporter = await engine.run(
        """
        steps:
          - id: agent
            balance: { wallet: agent }
          - if: steps.agent.raw > 10
            log: "raw + 1 = ${{ steps.agent.raw + 1 }}"
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    assert ("info", "raw + 1 = 20000000000000001") in reporter.logs


async def test_webhook_send_events_carry_a_string(engine: Engine, webhook: Webhook) -> None:
    result, _ = await engine.run(
        f"""
        steps:
          - id: pay
            send: {{ from: treasury, to: agent, amount: "0.000000000000000007 ETH" }}
        notify: {{ webhook: "{webhook.url}", on: [send] }}
        """
    )
    assert result.exit_code is ExitCode.OK, result.summary()
    [event] = webhook.received
    assert event["event"] == "send" and event["raw"] == "7"


async def test_a_resumed_step_keeps_the_string(engine: Engine) -> None:
    body = """
    steps:
      - id: agent
        balance: { wallet: agent }
      - assert: "false"
    """
    first, _ = await engine.run(body)
    assert first.exit_code is ExitCode.FAILED
    second, _ = await engine.run(body, resume=True)
    assert step(second, "agent").resumed
    assert outputs(second, "agent")["raw"] == "20000000000000000"
