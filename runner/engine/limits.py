"""Client-side limits, checked before a send request is even built.

They apply on top of the daemon's own policy engine: ``max_per_send``, ``max_per_run``,
a rolling 24-hour ``max_per_day`` counted from the ledger (sends in flight included) and
the ``allow_to`` recipient list. A violation names the limit and the numbers.
"""

from __future__ import annotations

from runner.client import to_token_units
from runner.engine.context import RunContext
from runner.playbook import Amount
from runner.playbook.amounts import format_decimal
from runner.steps.errors import StepFailed

__all__ = ["check_limits"]

DAY = 24 * 60 * 60


def _same_address(a: str, b: str) -> bool:
    return a.lower() == b.lower() if a.startswith("0x") and b.startswith("0x") else a == b


def _cap(context: RunContext, limit: str, symbol: str) -> Amount | None:
    for written in context.playbook.limits.caps()[limit]:
        cap = context.facts.units.resolve(written)
        if cap.symbol == symbol:
            return cap
    return None


def _in_units(raw: int, decimals: int) -> str:
    return format_decimal(to_token_units(raw, decimals))


async def check_limits(
    context: RunContext,
    amount: Amount,
    raw: int,
    decimals: int,
    to_address: str,
    to_alias: str | None,
) -> list[str]:
    """Raise :class:`StepFailed` on a violation; return the limits that applied."""
    applied: list[str] = []
    limits = context.playbook.limits
    symbol = amount.symbol
    if limits.allow_to is not None:
        allowed = to_alias in limits.allow_to if to_alias else False
        for entry in limits.allow_to:
            if allowed:
                break
            if entry in context.playbook.wallets:
                wallet = await context.wallet(entry)
                allowed = wallet.address is not None and _same_address(wallet.address, to_address)
            else:
                allowed = _same_address(entry, to_address)
        if not allowed:
            raise StepFailed(
                f"limit allow_to: recipient {to_alias or to_address} is not in "
                f"allow_to ({', '.join(limits.allow_to)}); nothing was sent"
            )
        applied.append("allow_to")
    if (cap := _cap(context, "max_per_send", symbol)) is not None:
        if amount.value > cap.value:
            raise StepFailed(f"limit max_per_send: {amount} is more than {cap}; nothing was sent")
        applied.append(f"max_per_send {cap}")
    if (cap := _cap(context, "max_per_run", symbol)) is not None:
        total = context.sent_this_run.get(symbol, 0) + raw
        if total > cap.to_raw(decimals):
            raise StepFailed(
                f"limit max_per_run: this run would send {_in_units(total, decimals)} {symbol}, "
                f"more than {cap}; nothing was sent"
            )
        applied.append(f"max_per_run {cap}")
    if (cap := _cap(context, "max_per_day", symbol)) is not None:
        spent = context.ledger.spent_since(symbol, context.clock() - DAY) if context.ledger else 0
        if spent + raw > cap.to_raw(decimals):
            raise StepFailed(
                f"limit max_per_day: {_in_units(spent, decimals)} {symbol} already sent in the "
                f"last 24 h (in-flight sends included); {amount} more would pass {cap}; "
                "nothing was sent"
            )
        applied.append(f"max_per_day {cap}")
    return applied
