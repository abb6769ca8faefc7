"""What a running step can see, split by concern (no one object carries everything).

- :class:`RunScope` — fixed for the whole run: playbook, client, ledger, mode, clock.
- :class:`RunValues` — what expressions read: vars, env, the outputs of earlier steps.
- :class:`Tallies` — what this run has sent so far, per token (``max_per_run``).
- :class:`Projections` — plan mode: how planned sends change the balances later steps read.
- :class:`~runner.engine.wallets.Wallets` — wallet aliases and recipients resolved.
- :class:`StepScope` — the above for one step, with its id and send key passed in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from runner.client import ConnectInfo, WAIaaSClient
from runner.engine.wallets import Wallets
from runner.errors import UsageError
from runner.ledger import Ledger
from runner.ledger.keys import SendKey
from runner.playbook import Amount, EvalContext, Expression, Facts, Playbook, Template
from runner.playbook import evaluate as evaluate_expression
from runner.playbook import render as render_template
from runner.playbook.amounts import AmountError, parse_amount_text
from runner.playbook.facts import referenced
from runner.playbook.limits import Limits, sent_on_network
from runner.playbook.scalars import is_plain_number
from runner.playbook.values import Value, format_value

__all__ = [
    "DEFAULT_PIPELINE_TIMEOUT",
    "Mode",
    "Projections",
    "Run",
    "RunScope",
    "RunValues",
    "StepScope",
    "Tallies",
    "parse_var_override",
]

Mode = Literal["run", "plan"]
DEFAULT_PIPELINE_TIMEOUT = 60.0  # seconds; see runner.engine.pipeline
log = logging.getLogger("runner.engine")


@dataclass(frozen=True)
class RunScope:
    """One run of one playbook, as fixed when it starts."""

    playbook: Playbook
    client: WAIaaSClient
    ledger: Ledger
    run_id: str
    mode: Mode = "run"
    config_limits: Limits = field(default_factory=Limits)
    scheduled_for: datetime | None = None
    sandbox_url: str | None = None  # --sandbox: where its control endpoints are
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # where the session's wallet list comes from (None: asked from the daemon per run)
    connect_info: Callable[[], Awaitable[ConnectInfo]] | None = None
    # how long a send waits for the wallet's earlier sends to leave signing (seconds)
    pipeline_timeout: float = DEFAULT_PIPELINE_TIMEOUT
    facts: Facts = field(init=False)
    started_at: datetime = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "facts", Facts(self.playbook))
        object.__setattr__(self, "started_at", datetime.fromtimestamp(self.clock(), UTC))

    @property
    def planning(self) -> bool:
        return self.mode == "plan"

    def send_key(self, step_id: str) -> SendKey:
        return SendKey(self.playbook.name, self.run_id, step_id)


class RunValues:
    """What expressions read; the outputs grow as steps finish."""

    def __init__(self, run: RunScope, env: Mapping[str, str]) -> None:
        self.run = run
        self.env = dict(env)
        self.vars: dict[str, Value] = dict(run.facts.static_vars)
        self.outputs: dict[str, dict[str, Value]] = {}

    def set_vars(self, overrides: Mapping[str, str]) -> None:
        """Render templated vars in order, then apply ``--var`` overrides (type-checked)."""
        playbook = self.run.playbook
        for name, value in playbook.vars.items():
            if isinstance(value, str) and "${{" in value:
                self.vars[name] = self.render(Template.parse(value))
        for name, text in overrides.items():
            if name not in playbook.vars:
                known = ", ".join(playbook.vars) or "none"
                raise UsageError(f"--var {name}: the playbook has no such var (vars: {known})")
            self.vars[name] = parse_var_override(name, text, self.vars.get(name), self.run.facts)

    def context(self) -> EvalContext:
        run = self.run
        return EvalContext(
            units=run.facts.units,
            vars=self.vars,
            steps=self.outputs,
            env=self.env,
            run={
                "id": run.run_id,
                "playbook": run.playbook.name,
                "scheduled": run.scheduled_for or run.started_at,
                "started": run.started_at,
            },
            clock=lambda: datetime.fromtimestamp(run.clock(), UTC),
        )

    def evaluate(self, expression: Expression) -> Value:
        return evaluate_expression(expression, self.context())

    def render(self, template: Template) -> Value:
        return render_template(template, self.context())

    def render_text(self, template: Template) -> str:
        return format_value(self.render(template))


@dataclass
class Tallies:
    """What this run has sent: smallest units per (network, symbol), and how many sends.

    The same symbol on two networks is two assets and is never added together; a send
    whose network is not known (None) is counted toward every network of its symbol."""

    sent: dict[tuple[str | None, str], int] = field(default_factory=dict)
    sends: int = 0

    def count(self, symbol: str, raw: int, network: str | None) -> None:
        key = (network, symbol)
        self.sent[key] = self.sent.get(key, 0) + raw
        self.sends += 1

    def sent_of(self, symbol: str, network: str | None) -> int:
        return sent_on_network(self.sent, symbol, network, 0)


@dataclass
class Projections:
    """Plan mode: smallest-unit changes planned sends would make, per (wallet, network,
    symbol), so a later read shows the balance the run would see; and the steps whose
    outputs only a run can know (a wait waits for nothing in a plan)."""

    changes: dict[tuple[str, str, str], int] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)

    def of(self, wallet_id: str | None, network: str | None, symbol: str) -> int:
        return self.changes.get((wallet_id or "", network or "", symbol), 0)

    def add(self, wallet_id: str | None, network: str | None, symbol: str, raw: int) -> None:
        key = (wallet_id or "", network or "", symbol)
        self.changes[key] = self.changes.get(key, 0) + raw


@dataclass(frozen=True)
class StepScope:
    """What one step runs with: the run's parts, its own id and send key."""

    run: RunScope
    values: RunValues
    wallets: Wallets
    tallies: Tallies
    projections: Projections
    step_id: str
    send_key: SendKey
    on_log: Callable[[str, str], None] | None = None

    def evaluate(self, expression: Expression) -> Value:
        return self.values.evaluate(expression)

    def render(self, template: Template) -> Value:
        return self.values.render(template)

    def render_text(self, template: Template) -> str:
        return self.values.render_text(template)

    def known_only_in_a_run(self, expressions: Iterable[Expression]) -> list[str]:
        """In a plan, the steps these expressions read whose outputs only a run knows."""
        if not self.run.planning:
            return []
        read = {name for e in expressions for root, name in referenced(e) if root == "steps"}
        return sorted(read & self.projections.unknown)

    def log(self, level: str, message: str) -> None:
        """To the run's reporter when it has one (printed once), else to the log."""
        if self.on_log is None:
            log.log(logging.getLevelName(level.upper()), "%s: %s", self.step_id, message)
            return
        log.debug("%s: %s: %s", self.step_id, level, message)
        self.on_log(level, message)


class Run:
    """A run in progress: its scope and the state its steps share."""

    def __init__(
        self,
        scope: RunScope,
        *,
        env: Mapping[str, str] | None = None,
        on_log: Callable[[str, str], None] | None = None,
    ) -> None:
        self.scope = scope
        self.values = RunValues(scope, env or {})
        self.wallets = Wallets(
            scope.playbook,
            scope.client,
            scope.ledger,
            self.values.render_text,
            connect_info=scope.connect_info,
        )
        self.tallies = Tallies()
        self.projections = Projections()
        self.on_log = on_log
        # each step's declared output names, computed once per run (keyed by id(step))
        self.declared_outputs: dict[int, list[str]] = {}

    def step(self, step_id: str) -> StepScope:
        return StepScope(
            self.scope,
            self.values,
            self.wallets,
            self.tallies,
            self.projections,
            step_id,
            self.scope.send_key(step_id),
            self.on_log,
        )


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
        # the playbook's own rule for numbers: plain decimal digits, read as written
        # (Decimal() alone would take "NaN", "Infinity", "1e999999" and "1_000")
        if not is_plain_number(text):
            raise UsageError(
                f"--var {name}: expected a number in plain decimal digits, got {text!r}"
            )
        return Decimal(text)
    return text
