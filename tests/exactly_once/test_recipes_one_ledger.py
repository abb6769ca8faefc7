"""Issue #19's "Done when": every shipped recipe and the quickstart, run unchanged one after
another against ONE ledger on ONE sandbox that behaves like the real daemon (the signing
race on), send exactly the intended transactions, each CONFIRMED.

"Intended" is what each playbook's own plan says right before its run (the same sandbox
and ledger), checked against the count the recipe's documentation gives for this state.
APPROVAL-tier sends are approved as the README describes: the wait step names the
transaction, and the owner approves it through the sandbox's approve endpoint (what
`waiaas-run sandbox --approve TX --url URL` calls). The sandbox runs on a frozen clock
that moves only when the runner waits, so DELAYs and approvals cost no real time.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.engine.launch import launch
from runner.engine.results import RunResult
from runner.playbook import load_playbook
from runner.sandbox import Clock, Sandbox
from tests.engine.conftest import Collector
from tests.exactly_once.sequencing import START, FrozenWorld

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.yaml"
TOKEN_VARIABLES = (
    "WAIAAS_SESSION_TOKEN",
    "OPS_SESSION_TOKEN",
    "TREASURY_SESSION_TOKEN",
    "WATCHER_SESSION_TOKEN",
)
WAITS_FOR_OWNER = re.compile(r"^(\S+) waits for the wallet owner's approval")

# (file, sends its run makes in this order and state, exit code): what the recipes'
# comments and the README's table say each does with the default fixture's wallets.
# Order 1: the payments first, the sweep after, the quickstart last (the agent is funded
# by then, so it only checks).
PAYMENTS_FIRST = [
    ("playbooks/recurring-payments.yaml", 3, 0),
    ("playbooks/approvals-backlog.yaml", 0, 0),
    ("playbooks/keep-agent-funded.yaml", 1, 0),  # APPROVAL tier: approved by the owner
    ("playbooks/keep-agent-usdc.yaml", 1, 0),
    ("playbooks/low-balance-alert.yaml", 0, 0),  # the agent was topped up above its floor
    ("playbooks/nightly-sweep.yaml", 1, 0),  # APPROVAL tier
    ("playbooks/stuck-transactions.yaml", 0, 0),
    ("examples/quickstart.yaml", 0, 0),
]
# Order 2: the quickstart first (it tops the agent up, DELAY tier), then the recipes in
# file order; recurring-payments comes after two other playbooks sent ETH.
QUICKSTART_THEN_FILE_ORDER = [
    ("examples/quickstart.yaml", 1, 0),  # DELAY tier
    ("playbooks/approvals-backlog.yaml", 0, 0),
    ("playbooks/keep-agent-funded.yaml", 0, 0),  # 0.10 ETH now: above its floor
    ("playbooks/keep-agent-usdc.yaml", 1, 0),
    ("playbooks/low-balance-alert.yaml", 0, 0),
    ("playbooks/nightly-sweep.yaml", 1, 0),
    ("playbooks/recurring-payments.yaml", 3, 0),
    ("playbooks/stuck-transactions.yaml", 0, 0),
]


class Owner(Collector):
    """The run's reporter, and the wallet owner who approves what a wait step says waits
    for approval (once the runner next waits)."""

    def __init__(self, world: FrozenWorld) -> None:
        super().__init__()
        self.world = world
        self.to_approve: list[str] = []
        self.approved: list[str] = []

    def log(self, level: str, message: str) -> None:
        super().log(level, message)
        if found := WAITS_FOR_OWNER.match(message):
            self.to_approve.append(found.group(1))

    async def act(self) -> None:
        async with httpx.AsyncClient(base_url=self.world.sandbox.url, timeout=10) as http:
            while self.to_approve:
                tx_id = self.to_approve.pop()
                answer = await http.post(f"/_sandbox/transactions/{tx_id}/approve")
                assert answer.status_code == 200, answer.text
                self.approved.append(tx_id)


class RecipeWorld(FrozenWorld):
    def __init__(self, tmp_path: Path, sandbox: Sandbox) -> None:
        super().__init__(tmp_path, sandbox)
        self.owner = Owner(self)

    async def sleep(self, seconds: float) -> None:
        await self.owner.act()
        await super().sleep(seconds)

    def options(self, **overrides: Any) -> Any:
        options = super().options(**overrides)
        options.environ = {**options.environ} | dict.fromkeys(TOKEN_VARIABLES, self.sandbox.token)
        return options

    async def launch(self, path: Path, mode: str) -> RunResult:
        self.owner = Owner(self)
        result = await launch(load_playbook(path), path, mode, self.options(), self.owner)  # type: ignore[arg-type]
        return result


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[RecipeWorld]:
    async with Sandbox(port=0, clock=Clock(frozen=START)) as sandbox:  # the race is on
        assert sandbox.core.lifecycle.signing.enabled
        yield RecipeWorld(tmp_path, sandbox)


def _sends(result: RunResult) -> list[dict[str, Any]]:
    return [s.output for s in result.steps if s.sends and s.output.get("to") is not None]


async def _run_all(world: RecipeWorld, order: list[tuple[str, int, int]]) -> list[str]:
    """Plan, then run each playbook; returns the problems (empty when all is as intended)."""
    problems: list[str] = []
    posted: list[str] = []
    for relative, count, exit_code in order:
        path = ROOT / relative
        plan = await world.launch(path, "plan")
        intended = [
            (s["to"].lower(), str(s["raw"])) for s in _sends(plan) if s.get("would_send") is True
        ]
        result = await world.launch(path, "run")
        sent = [s for s in _sends(result) if s.get("sent") is True]
        made = [(s["to"].lower(), str(s["raw"])) for s in sent]
        if made != intended or len(made) != count:
            problems.append(f"{relative}: sent {made}, planned {intended}, documented {count}")
        if result.exit_code != exit_code:
            reasons = [(s.step_id, s.reason) for s in result.steps if s.reason]
            problems.append(f"{relative}: exit {int(result.exit_code)}: {reasons}")
        posted += [s["id"] for s in sent]
    txs = world.txs() + world.txs("agent")
    by_id = {tx.id: tx for tx in txs}
    if sorted(by_id) != sorted(posted):
        problems.append(f"the daemon holds {sorted(by_id)}, the runs posted {sorted(posted)}")
    problems += [f"{tx.id}: {tx.status} {tx.error or ''}" for tx in txs if tx.status != "CONFIRMED"]
    return problems


async def test_every_recipe_and_the_quickstart_on_one_ledger_payments_first(
    world: RecipeWorld,
) -> None:
    assert await _run_all(world, PAYMENTS_FIRST) == []
    assert len(world.txs()) == 6  # 3 payments, the top-ups (ETH, USDC) and the sweep


async def test_every_recipe_and_the_quickstart_on_one_ledger_file_order(
    world: RecipeWorld,
) -> None:
    assert await _run_all(world, QUICKSTART_THEN_FILE_ORDER) == []


def test_the_orders_cover_every_shipped_playbook() -> None:
    shipped = {
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "playbooks").glob("*.yaml"), QUICKSTART]
        if not path.name.endswith(".test.yaml")
    }
    for order in (PAYMENTS_FIRST, QUICKSTART_THEN_FILE_ORDER):
        assert sorted(relative for relative, _, _ in order) == sorted(shipped)
