"""No code path after a send is posted ends in a traceback (issue 10).

A failure is injected into each stage that follows a posted send — recording its answer,
its outputs, the step records, the reporters, the next step, the run's end, the webhook —
and every time the run ends with a result (exit 1 or 3), the run is recorded as ended, the
send is in the ledger, and the failure webhook goes out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import runner.engine.executor as executor_module
import runner.engine.results as results_module
from runner.client import WAIaaSClient
from runner.engine.launch import LaunchOptions, launch
from runner.engine.results import RunResult, StepResult
from runner.ledger import Ledger, SendState
from runner.playbook import load_playbook
from tests.engine.conftest import Collector, Engine, Webhook

BODY = """
steps:
  - id: fund
    send: {{ from: treasury, to: agent, amount: "0.001 ETH" }}
  - id: settle
    wait: {{ transaction: "${{{{ steps.fund.id }}}}", until: CONFIRMED, timeout: 1m, interval: 1s }}
notify:
  webhook: "{hook}"
  on: [failure, send]
"""


class Injected(Exception):
    """The failure a test injects."""


class Boom:
    """Raises once a send was posted (stages before the send keep working)."""

    def __init__(self) -> None:
        self.posted = False
        self.fired = 0

    def after_send(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def replacement(*args: Any, **kwargs: Any) -> Any:
            if self.posted:
                self.fired += 1
                raise Injected("injected failure")
            return original(*args, **kwargs)

        return replacement


class FailingReporter(Collector):
    def __init__(self, boom: Boom, method: str) -> None:
        super().__init__()
        self.boom, self.method = boom, method

    def step_finished(self, result: StepResult) -> None:
        if self.method == "step_finished" and self.boom.posted:
            raise Injected("reporter broke")
        assert isinstance(result.output, dict)  # what the real reporters print
        super().step_finished(result)

    def run_finished(self, result: RunResult) -> None:
        if self.method == "run_finished":
            raise Injected("reporter broke at the end")
        super().run_finished(result)


STAGES: dict[str, Callable[[pytest.MonkeyPatch, Boom], None]] = {
    "ledger records the answer": lambda mp, boom: mp.setattr(
        Ledger, "mark_accepted", boom.after_send(Ledger.mark_accepted)
    ),
    "step outputs normalised": lambda mp, boom: mp.setattr(
        executor_module, "normalize", boom.after_send(executor_module.normalize)
    ),
    "step records encoded": lambda mp, boom: mp.setattr(
        executor_module, "encode", boom.after_send(executor_module.encode)
    ),
    "step records saved": lambda mp, boom: mp.setattr(
        Ledger, "save_steps", boom.after_send(Ledger.save_steps)
    ),
    "outputs made plain": lambda mp, boom: mp.setattr(
        results_module, "plain", boom.after_send(results_module.plain)
    ),
    "wait reads the transaction": lambda mp, boom: mp.setattr(
        WAIaaSClient, "get_transaction", boom.after_send(WAIaaSClient.get_transaction)
    ),
    "wait records the status": lambda mp, boom: mp.setattr(
        Ledger, "record_tx_status", boom.after_send(Ledger.record_tx_status)
    ),
    "reporter at the step": lambda mp, boom: None,
    "reporter at the end": lambda mp, boom: None,
    "ledger records the run's end": lambda mp, boom: mp.setattr(
        Ledger, "finish_run", boom.after_send(Ledger.finish_run)
    ),
}


@pytest.mark.parametrize("stage", list(STAGES))
async def test_a_failure_after_the_send_ends_the_run_recorded(
    engine: Engine, webhook: Webhook, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    boom = Boom()
    original_send = WAIaaSClient.send

    async def send(client: WAIaaSClient, request: Any) -> Any:
        answer = await original_send(client, request)
        boom.posted = True
        return answer

    monkeypatch.setattr(WAIaaSClient, "send", send)
    STAGES[stage](monkeypatch, boom)
    method = {"reporter at the step": "step_finished", "reporter at the end": "run_finished"}
    reporter = FailingReporter(boom, method.get(stage, ""))
    path = engine.write(BODY.format(hook=webhook.url))
    options = LaunchOptions(
        daemon_url=engine.sandbox.url,
        state=engine.state,
        environ=engine.environ(),
        retry_policy=engine.retry_policy,
        sleep=_advance(engine),
    )
    result = await launch(load_playbook(path), Path(path), "run", options, reporter)

    assert boom.posted
    assert int(result.exit_code) in (1, 3), result.summary()
    if stage == "ledger records the answer":
        assert result.exit_code == 3  # the transfer may exist: a person must look
    with engine.ledger() as ledger:
        [send_intent] = ledger.sends()
        # recorded as accepted, or left intended (the run says unknown; --resume reconciles)
        assert send_intent.state in (SendState.ACCEPTED, SendState.INTENDED)
        if stage != "ledger records the answer":
            assert send_intent.state is SendState.ACCEPTED and send_intent.tx_id
        [run] = ledger.runs()
        if stage != "ledger records the run's end":
            assert run.status != "running" and run.exit_code == int(result.exit_code)
    events = [event["event"] for event in webhook.received]
    assert "failure" in events, webhook.received


def _advance(engine: Engine) -> Callable[[float], Any]:
    async def sleep(seconds: float) -> None:
        engine.sandbox.advance(seconds)

    return sleep


async def test_formatting_a_huge_number_never_fails() -> None:
    from decimal import Decimal

    from runner.engine.values import plain
    from runner.playbook import Amount

    assert plain(Decimal("1e150")).startswith("1")
    assert str(Amount(Decimal("1e150"), "ETH")).endswith(" ETH")
