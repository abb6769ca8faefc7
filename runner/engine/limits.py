"""Client-side limits, checked before a send request is even built.

They apply on top of the daemon's own policy engine: ``max_per_send``, ``max_per_run``,
a rolling 24-hour ``max_per_day`` counted from the ledger (sends in flight included),
``max_sends_per_run`` and the ``allow_to`` recipient list — from the playbook's
``limits:`` and from the runner's config file; both are checked, so the stricter wins.
A violation names the limit, where it was set, and the numbers.

What an amount cap counts is scoped. A playbook's ``max_per_day`` counts that playbook's
sends (by its ``name:``, the name its send keys and runs are recorded under); the runner
config's counts every send in the ledger, from every playbook. Both count one symbol on
one network only: the network a send goes to (the wallet's default network when the
step names none, as the daemon resolved it), so testnet ETH never eats a mainnet cap.
``max_per_run`` counts this run's sends of the symbol on that network.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.client import same_address, to_token_units
from runner.engine.scope import StepScope
from runner.errors import StepFailed
from runner.ledger import DailyCap
from runner.playbook import Amount
from runner.playbook.amounts import AmountError, AmountLiteral, RawAmount, format_decimal
from runner.playbook.limits import Limits

__all__ = ["Outgoing", "check_limits", "daily_caps"]

DAY = 24 * 60 * 60
_PLAYBOOK, _CONFIG = "playbook", "runner config"  # where a set of limits was written


@dataclass(frozen=True)
class Outgoing:
    """A send as its limits judge it, before its request is built."""

    amount: Amount
    raw: int
    decimals: int
    to: str
    alias: str | None  # the recipient's wallet alias, when it is one
    network: str | None  # the network it goes to (None: not known)


def _in_units(raw: int, decimals: int) -> str:
    return format_decimal(to_token_units(raw, decimals))


async def _allowed(scope: StepScope, allow_to: list[str], to: str, alias: str | None) -> bool:
    if alias is not None and alias in allow_to:
        return True
    for entry in allow_to:
        if entry in scope.run.playbook.wallets:
            wallet = await scope.wallets.wallet(entry)
            if same_address(wallet.address, to):
                return True
        elif same_address(entry, to):
            return True
    return False


def _on(network: str | None) -> str:
    return f"on {network}" if network else "on any network (the send's is not known)"


def _day_scope(where: str, network: str | None) -> str:
    """Which sends a ``max_per_day`` set in ``where`` counts, as its messages say it."""
    if where == _PLAYBOOK:
        return f"this playbook's sends {_on(network)}"
    return f"every playbook's sends in this ledger {_on(network)}"


async def _check(scope: StepScope, limits: Limits, where: str, send: Outgoing) -> list[str]:
    applied: list[str] = []
    symbol = send.amount.symbol

    def violated(name: str, detail: str) -> StepFailed:
        return StepFailed(f"limit {name} ({where}): {detail}; nothing was sent")

    if limits.allow_to is not None:
        if not await _allowed(scope, limits.allow_to, send.to, send.alias):
            allowed = ", ".join(limits.allow_to)
            raise violated("allow_to", f"recipient {send.alias or send.to} is not in [{allowed}]")
        applied.append("allow_to")
    if limits.max_sends_per_run is not None:
        if scope.tallies.sends >= limits.max_sends_per_run:
            raise violated(
                "max_sends_per_run",
                f"this run already posted {scope.tallies.sends} of "
                f"{limits.max_sends_per_run} sends",
            )
        applied.append(f"max_sends_per_run {limits.max_sends_per_run}")
    caps = {name: _cap(scope, written, symbol) for name, written in limits.caps().items()}
    if any(limits.caps().values()) and all(cap is None for cap in caps.values()):
        # limits are per token: a token no cap names would be unlimited, so it is refused
        raise violated("per token", f"no amount limit covers {symbol}; add a cap for it")
    if (cap := caps["max_per_send"]) is not None:
        if send.amount.value > cap.value:
            raise violated("max_per_send", f"{send.amount} is more than {cap}")
        applied.append(f"max_per_send {cap}")
    if (cap := caps["max_per_run"]) is not None:
        total = scope.tallies.sent_of(symbol, send.network) + send.raw
        if total > cap.to_raw(send.decimals):
            raise violated(
                "max_per_run",
                f"this run would send {_in_units(total, send.decimals)} {symbol}, more than {cap} "
                f"(counting this run's sends {_on(send.network)})",
            )
        applied.append(f"max_per_run {cap}")
    if (cap := caps["max_per_day"]) is not None:
        spent = scope.run.ledger.spent_since(
            symbol,
            scope.run.clock() - DAY,
            excluding=str(scope.send_key),
            network=send.network,
            playbook=scope.send_key.playbook if where == _PLAYBOOK else None,
        )
        counted = _day_scope(where, send.network)
        if spent + send.raw > cap.to_raw(send.decimals):
            raise violated(
                "max_per_day",
                f"{_in_units(spent, send.decimals)} {symbol} already sent in the last 24 h "
                f"(in-flight sends included); {send.amount} more would pass {cap} "
                f"(counting {counted})",
            )
        applied.append(f"max_per_day {cap} (counting {counted})")
    return applied


def _cap(scope: StepScope, written: list[AmountLiteral | RawAmount], symbol: str) -> Amount | None:
    for literal in written:
        try:
            cap = scope.run.facts.units.resolve(literal)
        except AmountError:  # a config cap on a token this playbook does not know
            continue
        if cap.symbol == symbol:
            return cap
    return None


def _sources(scope: StepScope) -> tuple[tuple[Limits, str], ...]:
    return ((scope.run.playbook.limits, _PLAYBOOK), (scope.run.config_limits, _CONFIG))


async def check_limits(scope: StepScope, send: Outgoing) -> list[str]:
    """Raise :class:`StepFailed` on a violation; return the limits that applied."""
    applied: list[str] = []
    for limits, where in _sources(scope):
        applied += await _check(scope, limits, where, send)
    return applied


def daily_caps(scope: StepScope, send: Outgoing) -> tuple[DailyCap, ...]:
    """Every ``max_per_day`` on the send's symbol, each in its scope, for the ledger to
    enforce atomically with the intent (the check above is the early, explained refusal;
    this one holds against concurrent processes). The ledger counts the request's network."""
    since = scope.run.clock() - DAY
    return tuple(
        DailyCap(
            cap.to_raw(send.decimals),
            since,
            playbook=scope.send_key.playbook if where == _PLAYBOOK else None,
            scope=f"{where}: {_day_scope(where, send.network)}",
        )
        for limits, where in _sources(scope)
        if (cap := _cap(scope, limits.max_per_day, send.amount.symbol)) is not None
    )
