"""Issue #19's "Done when": every shipped recipe and the quickstart, run unchanged one after
another against ONE ledger on ONE sandbox that behaves like the real daemon (the signing
race on), send exactly the intended transactions, each CONFIRMED.

"Intended" is decided twice, independently: by what each playbook's own plan says right
before its run (the same sandbox and ledger), and by an oracle written here from the
playbook's text (its vars: recipients, amounts, floors) and the sandbox's own balances
before the run — never from the runner's answers. The daemon's rows each run made must
match the oracle (recipient, smallest units, native coin or the USDC contract, network),
each end CONFIRMED, and every balance move by exactly what was sent and its fee.
APPROVAL-tier sends are approved as the README describes: the wait step names the
transaction, and the owner approves it through the sandbox's approve endpoint (what
`waiaas-run sandbox --approve TX --url URL` calls). The sandbox runs on a frozen clock
that moves only when the runner waits, so DELAYs and approvals cost no real time.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from runner.engine.launch import launch
from runner.engine.results import RunResult
from runner.ledger import Ledger, SendState
from runner.playbook import load_playbook
from runner.sandbox import Clock, Sandbox, load_fixture
from runner.sandbox.state import NATIVE, TxRow
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


NETWORK = "ethereum-sepolia"
USDC = "0x1c7d4b196cb0c7b01d743fbc6116a902379c7238"  # the sandbox's USDC on sepolia
DECIMALS = {"ETH": 18, "USDC": 6}
ASSET = {"ETH": NATIVE, "USDC": USDC}
# (recipient address lower-cased, smallest units, asset): one transfer as the daemon holds it
Transfer = tuple[str, int, str]


def _raw(text: str) -> tuple[int, str]:
    """ "0.004 ETH" -> (4000000000000000, "ETH"), by plain Decimal arithmetic."""
    number, symbol = text.split()
    return int(Decimal(number).scaleb(DECIMALS[symbol])), symbol


def _said(relative: str) -> dict[str, Any]:
    """The playbook's own vars, read from its file with a plain YAML parser."""
    document = yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return dict(document.get("vars") or {})


def _expected(world: RecipeWorld, relative: str) -> list[Transfer]:
    """What the playbook says it sends in the sandbox's state right now (the oracle)."""
    said = _said(relative)
    store, sandbox = world.sandbox.core.store, world.sandbox
    treasury, agent = sandbox.wallet("treasury"), sandbox.wallet("agent")

    def held(wallet: dict[str, str], symbol: str) -> int:
        return store.balance(wallet["id"], NETWORK, ASSET[symbol])

    def top_up() -> list[Transfer]:
        floor, symbol = _raw(said["floor"])
        amount, _ = _raw(said["top_up"])
        if held(agent, symbol) >= floor:
            return []
        return [(agent["address"].lower(), amount, ASSET[symbol])]

    name = Path(relative).stem
    if name == "recurring-payments":
        return [
            (said[who].lower(), _raw(said[f"{who}_amount"])[0], NATIVE)
            for who in ("alice", "bob", "carol")
        ]
    if name in ("keep-agent-funded", "keep-agent-usdc", "quickstart"):
        return top_up()
    if name == "nightly-sweep":
        keep, _ = _raw(said["keep"])
        minimum, _ = _raw(said["minimum_sweep"])
        excess = held(treasury, "ETH") - keep
        return [(said["cold"].lower(), excess, NATIVE)] if excess >= minimum else []
    return []  # the read-only recipes (alerts, backlog, stuck transactions)


def _all_rows(world: RecipeWorld) -> list[TxRow]:
    return world.txs() + world.txs("agent")


def _balances(world: RecipeWorld) -> dict[tuple[str, str], int]:
    store = world.sandbox.core.store
    return {
        (wallet["id"], asset): store.balance(wallet["id"], NETWORK, asset)
        for wallet in world.sandbox.wallets
        for asset in (NATIVE, USDC)
    }


async def _run_all(world: RecipeWorld, order: list[tuple[str, int, int]]) -> list[str]:
    """Plan, then run each playbook; returns the problems (empty when all is as intended)."""
    problems: list[str] = []
    posted: list[str] = []
    fee = load_fixture().fee(NETWORK)  # the default fixture's, which the sandbox runs
    addresses = {w["address"].lower(): w["id"] for w in world.sandbox.wallets}
    for relative, count, exit_code in order:
        path = ROOT / relative
        plan = await world.launch(path, "plan")
        intended = [
            (s["to"].lower(), str(s["raw"])) for s in _sends(plan) if s.get("would_send") is True
        ]
        oracle = _expected(world, relative)
        before_rows = {tx.id for tx in _all_rows(world)}
        before = _balances(world)
        result = await world.launch(path, "run")
        sent = [s for s in _sends(result) if s.get("sent") is True]
        made = [(s["to"].lower(), str(s["raw"])) for s in sent]
        if made != intended or len(made) != count or len(oracle) != count:
            problems.append(
                f"{relative}: sent {made}, planned {intended}, said {oracle}, documented {count}"
            )
        rows = [tx for tx in _all_rows(world) if tx.id not in before_rows]  # oldest first
        held = [(tx.to_address.lower(), int(tx.amount), tx.asset) for tx in rows]
        if held != oracle or any(tx.network != NETWORK for tx in rows):
            problems.append(f"{relative}: the daemon holds {held}, the playbook says {oracle}")
        if [tx.id for tx in rows] != [s["id"] for s in sent]:
            problems.append(f"{relative}: new rows {[tx.id for tx in rows]}, sent {sent}")
        moved = dict(before)
        for tx in rows:
            if tx.status == "CONFIRMED":
                moved[tx.wallet_id, tx.asset] -= int(tx.amount)
                moved[tx.wallet_id, NATIVE] -= fee
                if (to := addresses.get(tx.to_address.lower())) is not None:
                    moved[to, tx.asset] += int(tx.amount)
        if _balances(world) != moved:
            problems.append(f"{relative}: balances moved other than by what was sent")
        if result.exit_code != exit_code:
            reasons = [(s.step_id, s.reason) for s in result.steps if s.reason]
            problems.append(f"{relative}: exit {int(result.exit_code)}: {reasons}")
        posted += [s["id"] for s in sent]
    txs = _all_rows(world)
    by_id = {tx.id: tx for tx in txs}
    if sorted(by_id) != sorted(posted):
        problems.append(f"the daemon holds {sorted(by_id)}, the runs posted {sorted(posted)}")
    problems += [f"{tx.id}: {tx.status} {tx.error or ''}" for tx in txs if tx.status != "CONFIRMED"]
    with Ledger(world.state) as ledger:
        recorded = [(s.tx_id, s.state, s.tx_status) for s in ledger.sends() if s.tx_id is not None]
    if sorted(t for t, _, _ in recorded) != sorted(posted) or any(
        (state, status) != (SendState.ACCEPTED, "CONFIRMED") for _, state, status in recorded
    ):
        problems.append(f"the ledger records {recorded}, the runs posted {sorted(posted)}")
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
