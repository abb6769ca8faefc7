"""What a running step can see and use: values, wallets, the client, the ledger."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from filelock import AsyncFileLock

from runner.client import ConnectInfo, WAIaaSClient
from runner.ledger import Ledger
from runner.playbook import Amount, EvalContext, Expression, Facts, Playbook, Template
from runner.playbook import evaluate as evaluate_expression
from runner.playbook import render as render_template
from runner.playbook.amounts import AmountError, parse_amount_text
from runner.playbook.limits import Limits
from runner.playbook.values import Value, format_value
from runner.steps.errors import StepFailed

__all__ = ["Mode", "ResolvedWallet", "RunContext", "UsageError", "parse_var_override"]

Mode = Literal["run", "plan"]
log = logging.getLogger("runner.engine")


class UsageError(Exception):
    """The run cannot start as asked (missing environment, a bad --var): exit code 2."""


@dataclass(frozen=True)
class ResolvedWallet:
    """A playbook wallet alias after the daemon told us who it is."""

    alias: str | None
    id: str | None  # None: the session's only wallet, chosen by the daemon
    name: str | None
    network: str | None
    address: str | None
    chain: str | None

    @property
    def label(self) -> str:
        return self.alias or self.name or self.id or "the session's wallet"


@dataclass
class RunContext:
    """One run of one playbook. The engine sets ``step_id`` before each step runs."""

    playbook: Playbook
    client: WAIaaSClient
    run_id: str
    mode: Mode = "run"
    env: Mapping[str, str] = field(default_factory=dict)
    ledger: Ledger | None = None
    scheduled_for: datetime | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    on_log: Callable[[str, str], None] | None = None
    step_id: str = ""
    outputs: dict[str, dict[str, Value]] = field(default_factory=dict)
    # plan mode: smallest-unit changes a planned send would make, per (wallet, network, symbol)
    projected: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # smallest units sent in this run, per symbol (max_per_run), and how many sends
    sent_this_run: dict[str, int] = field(default_factory=dict)
    sends_this_run: int = 0
    # each step's declared output names, computed once per run (keyed by id(step))
    declared_outputs: dict[int, list[str]] = field(default_factory=dict)
    config_limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        self.facts = Facts(self.playbook)
        self.started_at = datetime.fromtimestamp(self.clock(), UTC)
        self.vars: dict[str, Value] = dict(self.facts.static_vars)
        self._connect_info: ConnectInfo | None = None
        self._wallets: dict[str | None, ResolvedWallet] = {}
        self._wallet_locks: dict[str | None, asyncio.Lock] = {}

    @property
    def planning(self) -> bool:
        return self.mode == "plan"

    @property
    def send_key_prefix(self) -> str:
        return f"{self.playbook.name}/{self.run_id}"

    def send_key(self) -> str:
        return f"{self.send_key_prefix}/{self.step_id}"

    # -- values --------------------------------------------------------------------------

    def set_vars(self, overrides: Mapping[str, str]) -> None:
        """Render templated vars in order, then apply ``--var`` overrides (type-checked)."""
        for name, value in self.playbook.vars.items():
            if isinstance(value, str) and "${{" in value:
                self.vars[name] = self.render(Template.parse(value))
        for name, text in overrides.items():
            if name not in self.playbook.vars:
                known = ", ".join(self.playbook.vars) or "none"
                raise UsageError(f"--var {name}: the playbook has no such var (vars: {known})")
            self.vars[name] = parse_var_override(name, text, self.vars.get(name), self.facts)

    def eval_context(self) -> EvalContext:
        return EvalContext(
            units=self.facts.units,
            vars=self.vars,
            steps=self.outputs,
            env=self.env,
            run={
                "id": self.run_id,
                "playbook": self.playbook.name,
                "scheduled": self.scheduled_for or self.started_at,
                "started": self.started_at,
            },
            clock=lambda: datetime.fromtimestamp(self.clock(), UTC),
        )

    def evaluate(self, expression: Expression) -> Value:
        return evaluate_expression(expression, self.eval_context())

    def render(self, template: Template) -> Value:
        return render_template(template, self.eval_context())

    def render_text(self, template: Template) -> str:
        return format_value(self.render(template))

    def log(self, level: str, message: str) -> None:
        log.log(logging.getLevelName(level.upper()), "%s: %s", self.step_id, message)
        if self.on_log is not None:
            self.on_log(level, message)

    # -- wallets -------------------------------------------------------------------------

    async def connect_info(self) -> ConnectInfo:
        if self._connect_info is None:
            self._connect_info = await self.client.get_connect_info()
        return self._connect_info

    async def wallet(self, alias: str | None) -> ResolvedWallet:
        """Resolve a wallet alias (None: ``daemon.wallet``, else the session's only wallet)."""
        alias = alias or self.playbook.daemon.wallet
        if alias not in self._wallets:
            self._wallets[alias] = await self._resolve_wallet(alias)
        return self._wallets[alias]

    async def _resolve_wallet(self, alias: str | None) -> ResolvedWallet:
        info = await self.connect_info()
        default_network = self._render_optional(self.playbook.daemon.network)
        if alias is None:
            if len(info.wallets) != 1:
                raise StepFailed(
                    f"the session holds {len(info.wallets)} wallets; name one with "
                    "`wallet:` on the step or `daemon.wallet:`"
                )
            only = info.wallets[0]
            return ResolvedWallet(
                None, only.id, only.name, default_network, only.address, only.chain
            )
        spec = self.playbook.wallets[alias]
        network = self._render_optional(spec.network) or default_network
        if spec.id is not None:
            wallet_id = self.render_text(spec.id)
            found = next((w for w in info.wallets if w.id == wallet_id), None)
        else:
            name = self.render_text(spec.name) if spec.name is not None else ""
            found = info.wallet_named(name)
            if found is None:
                names = ", ".join(w.name for w in info.wallets) or "none"
                raise StepFailed(
                    f"wallet {alias!r}: the session has no wallet named {name!r} "
                    f"(its wallets: {names})"
                )
            wallet_id = found.id
        if found is None:
            raise StepFailed(f"wallet {alias!r}: id {wallet_id} is not linked to this session")
        return ResolvedWallet(alias, wallet_id, found.name, network, found.address, found.chain)

    def _render_optional(self, template: Template | None) -> str | None:
        return None if template is None else self.render_text(template)

    async def recipient(self, text: str) -> tuple[str, str | None]:
        """A ``to:`` value: a wallet alias becomes its address; anything else is an address."""
        if text in self.playbook.wallets:
            wallet = await self.wallet(text)
            if not wallet.address:
                raise StepFailed(f"wallet {text!r}: the daemon did not report its address")
            return wallet.address, text
        return text, None

    @contextlib.asynccontextmanager
    async def wallet_lock(self, wallet: ResolvedWallet) -> AsyncIterator[None]:
        """Sends from one wallet go one at a time, across tasks and across processes that
        share the ledger: the daemon has no per-wallet nonce manager."""
        async with self._wallet_locks.setdefault(wallet.id, asyncio.Lock()):
            if self.ledger is None:
                yield
                return
            folder = self.ledger.path.parent / "locks"
            folder.mkdir(exist_ok=True)
            async with AsyncFileLock(
                folder / f"wallet-{wallet.id or 'default'}.lock", run_in_executor=False
            ):
                yield


def parse_var_override(name: str, text: str, current: Value, facts: Facts) -> Value:
    """``--var name=text`` takes the declared var's type: an amount stays an amount."""
    if isinstance(current, Amount):
        try:
            amount = facts.units.resolve(parse_amount_text(text))
        except AmountError as error:
            raise UsageError(f"--var {name}: {error}") from None
        if amount.symbol != current.symbol:
            raise UsageError(f"--var {name}: expected an amount in {current.symbol}, got {text!r}")
        return amount
    if isinstance(current, bool):
        if text.lower() not in ("true", "false"):
            raise UsageError(f"--var {name}: expected true or false, got {text!r}")
        return text.lower() == "true"
    if isinstance(current, Decimal):
        try:
            return Decimal(text)
        except InvalidOperation:
            raise UsageError(f"--var {name}: expected a number, got {text!r}") from None
    return text
