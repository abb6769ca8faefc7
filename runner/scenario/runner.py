"""Running the cases of a test file: a fresh in-process sandbox per case, on a frozen
clock that only moves when the runner waits (so a DELAY or an approval costs no time)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.client import WAIaaSClient, WAIaaSError
from runner.sandbox import Clock, Sandbox
from runner.sandbox.lifecycle import TransitionError
from runner.scenario.adapter import PlaybookRun, RunRequest, run_playbook
from runner.scenario.load import LoadedCase, LoadedScenario
from runner.scenario.outcome import ObservedSend, Verdict, judge, observe_sends
from runner.scenario.receiver import WebhookReceiver
from runner.scenario.world import World

__all__ = ["CaseResult", "run_case", "run_scenario"]


@dataclass(frozen=True)
class CaseResult:
    file: Path
    name: str
    verdict: Verdict
    sends: list[ObservedSend]
    exit_code: int | None
    duration: float

    @property
    def passed(self) -> bool:
        return self.verdict.passed


async def run_scenario(
    scenario: LoadedScenario,
    only: Callable[[str], bool] = lambda name: True,
    on_result: Callable[[CaseResult], None] = lambda result: None,
) -> list[CaseResult]:
    results = []
    async with WebhookReceiver() as receiver:
        for loaded in scenario.cases:
            if only(loaded.case.name):
                result = await run_case(scenario, loaded, receiver)
                on_result(result)
                results.append(result)
    return results


class _Owner:
    """The wallet owner during the run: approves or rejects APPROVAL-tier sends (or not)."""

    def __init__(self, sandbox: Sandbox, decision: str, earlier: set[str]) -> None:
        self.sandbox, self.decision, self.earlier = sandbox, decision, earlier

    def act(self) -> None:
        if self.decision == "leave":
            return
        core = self.sandbox.core
        core.lifecycle.advance()
        for tx in core.store.txs_with_status(None, ("QUEUED",)):
            if tx.tier != "APPROVAL" or tx.id in self.earlier:
                continue
            try:
                getattr(core.lifecycle, self.decision)(tx)
            except TransitionError:
                continue  # decided meanwhile


async def _make_history(sandbox: Sandbox, clock: Clock, world: World) -> set[str]:
    """The transfers made before the run, each at its own time on the sandbox clock (two
    of one wallet at one time do not race: the history is what happened, not a test)."""
    race = sandbox.core.lifecycle.signing.enabled
    sandbox.set_signing(race=False)
    try:
        made = await _post_history(sandbox, clock, world)
    finally:
        sandbox.set_signing(race=race)
    sandbox.advance(max(0.0, world.start - clock()))
    return made


async def _post_history(sandbox: Sandbox, clock: Clock, world: World) -> set[str]:
    made: set[str] = set()
    async with WAIaaSClient(sandbox.url, sandbox.token) as client:
        for past in sorted(world.history, key=lambda p: -p.age):
            sandbox.advance(max(0.0, world.start - past.age - clock()))
            sent = await client.send_token(
                past.to,
                past.raw,
                token=past.token,
                network=past.network,
                wallet_id=sandbox.wallet(past.wallet)["id"],
            )
            made.add(sent.id)
    return made


async def run_case(
    scenario: LoadedScenario, loaded: LoadedCase, receiver: WebhookReceiver
) -> CaseResult:
    started = time.perf_counter()
    case, world = loaded.case, loaded.world
    clock = Clock(frozen=world.earliest)
    receiver.take()
    async with Sandbox(port=0, fixture=world.fixture, clock=clock) as sandbox:
        try:
            earlier = await _make_history(sandbox, clock, world)
        except WAIaaSError as error:
            verdict = Verdict([f"the sandbox setup failed: history: {error}"])
            return CaseResult(scenario.path, case.name, verdict, [], None, 0.0)
        for rule in world.faults:
            sandbox.add_fault(rule)
        owner = _Owner(sandbox, world.approvals, earlier)

        async def sleep(seconds: float) -> None:
            owner.act()
            sandbox.advance(max(0.0, seconds))
            owner.act()
            await asyncio.sleep(0)  # let the sandbox answer requests in between

        env = {**loaded.env, **dict.fromkeys(loaded.webhook_env, receiver.url)}
        runs: list[PlaybookRun] = []
        with tempfile.TemporaryDirectory(prefix="waiaas-test-") as folder:
            for _ in range(case.runs):
                request = RunRequest(
                    playbook=scenario.playbook,
                    path=scenario.playbook_path,
                    daemon_url=sandbox.url,
                    token=sandbox.token,
                    state=Path(folder) / "ledger.sqlite3",
                    config_home=Path(folder) / "config",
                    env=env,
                    variables=case.vars,
                    run_id=case.run_id,
                    sleep=sleep,
                    clock=clock,
                )
                runs.append(await run_playbook(request))
        sends = observe_sends(sandbox, earlier)
        addresses = {w["address"].lower(): w["name"] for w in sandbox.wallets}
    verdict = judge(case.expect, runs, sends, receiver.take(), scenario.units, addresses)
    return CaseResult(
        scenario.path,
        case.name,
        verdict,
        sends,
        runs[-1].exit_code,
        time.perf_counter() - started,
    )
