"""Running ``send``: limits first, then one :class:`TransferRequest`, posted exactly once
(or, in a plan, simulated and projected onto the balances later steps read)."""

from __future__ import annotations

from typing import Any

from runner.client import MAX_RAW, TransferRequest, same_address, to_token_units
from runner.engine import holdings, sending
from runner.engine.limits import Outgoing, check_limits, daily_caps
from runner.engine.scope import StepScope
from runner.engine.steps.base import StepOutput
from runner.engine.wallets import ResolvedWallet
from runner.errors import StepFailed
from runner.playbook import Amount, Template
from runner.playbook.amounts import AmountError, AmountLiteral, RawAmount
from runner.playbook.steps.send import SendStep
from runner.playbook.values import SmallestUnits
from runner.secrets import looks_like_token


async def run(step: SendStep, scope: StepScope) -> StepOutput:
    settings = step.send
    wallet = await scope.wallets.wallet(settings.from_)
    network = scope.render_text(settings.network) if settings.network else wallet.network
    amount = _amount_value(scope, settings.amount)
    _refuse_impossible(scope, amount, allow_zero=settings.allow_zero)  # before any request
    if amount.symbol in scope.run.playbook.tokens:
        holding = await holdings.token_holding(scope, wallet, network, amount.symbol)
    else:
        holding = await holdings.native_holding(scope, wallet, network, amount.symbol)
    try:
        raw = amount.to_raw(holding.decimals)
    except AmountError as error:
        raise StepFailed(str(error)) from None
    to, alias = await scope.wallets.recipient(scope.render_text(settings.to))
    if wallet.address and same_address(to, wallet.address):
        # e.g. both aliases' names come from env and name one wallet: a transfer to itself
        # only burns a fee, and is not what a send from one wallet to another said
        raise StepFailed(
            f"the recipient {alias or to} is the sending wallet {wallet.label} itself "
            f"({to}); refused, nothing was sent"
        )
    # counted on the network the send goes to: the daemon's answer names it even when the
    # step left it to the wallet's default network
    outgoing = Outgoing(amount, raw, holding.decimals, to, alias, holding.network)
    applied = await check_limits(scope, outgoing)
    memo = scope.render_text(settings.memo) if settings.memo is not None else None
    if memo is not None and looks_like_token(memo):  # a memo goes on chain, readable by all
        raise StepFailed("the memo holds a session token; refused, nothing was sent")
    try:
        request = TransferRequest(
            to,
            raw,
            token=holdings.token_spec(scope, amount.symbol),
            memo=memo,
            network=holding.network,
            wallet_id=wallet.id,
            symbol=amount.symbol,
        )
    except ValueError as error:
        raise StepFailed(str(error)) from None
    output: dict[str, Any] = {
        "from": wallet.label,
        "amount": amount,
        "raw": SmallestUnits(raw),
        "to": to,
        "to_wallet": alias,
        "network": holding.network,
        "limits": applied,
    }
    if scope.run.planning:
        planned = await _simulate(scope, wallet, request, holding)  # sent: false, would_send
        scope.tallies.count(amount.symbol, raw, holding.network)  # later sends judged alike
        return output | planned
    caps = daily_caps(scope, outgoing)
    accepted = await sending.send_exactly_once(scope, request, wallet, daily_cap=caps)
    scope.tallies.count(amount.symbol, raw, holding.network)
    # The answer means accepted (PENDING); the tier shows once the daemon's policy ran,
    # so a wait step reports it. In a plan the dry run tells it.
    return output | {
        "sent": True,  # a transaction exists for this step (posted now, or adopted)
        "adopted": accepted.adopted,
        "id": accepted.tx_id,
        "status": accepted.status,
        "tier": None,
        # how long it waited for the wallet's earlier sends to leave signing, and for which
        "pipeline": accepted.pipeline.output(),
    }


def _refuse_impossible(scope: StepScope, amount: Amount, *, allow_zero: bool) -> None:
    """A negative send, a zero one the playbook did not allow, or one of more smallest
    units than any chain holds: refused before anything is asked of the daemon."""
    if amount.value < 0:
        raise StepFailed(f"cannot send a negative amount ({amount}); nothing was sent")
    if amount.value == 0 and not allow_zero:
        raise StepFailed(
            f"this sends {amount}: a zero send is refused unless the send says "
            "allow_zero: true; nothing was sent (or give the step an if: condition)"
        )
    try:
        raw = amount.to_raw(scope.run.facts.units.decimals(amount.symbol))
    except AmountError as error:
        raise StepFailed(f"{error}; nothing was sent") from None
    if raw > MAX_RAW:
        raise StepFailed(
            f"amount {_shown(amount)} is {len(str(raw))} digits of smallest units, more than "
            "any chain can hold (2^256-1); nothing was sent"
        )


def _shown(amount: Amount) -> str:
    """An amount for a message, shortened when it has more digits than a person reads."""
    text = str(amount)
    return text if len(text) <= 40 else f"{amount.value:.6e} {amount.symbol}"


def _amount_value(scope: StepScope, written: AmountLiteral | RawAmount | Template) -> Amount:
    if isinstance(written, Template):
        value = scope.render(written)
        if not isinstance(value, Amount):
            raise StepFailed(f"amount: {written} gave {value!r}, not an amount")
        return value
    return scope.run.facts.units.resolve(written)


async def _simulate(
    scope: StepScope, wallet: ResolvedWallet, request: TransferRequest, holding: holdings.Holding
) -> dict[str, Any]:
    """Plan mode: ask the daemon's dry run, and project the balances later steps will read."""
    simulation = await scope.run.client.simulate(request)
    projections, raw = scope.projections, request.raw
    fee = simulation.fee or {}
    projections.add(wallet.id, holding.network, holding.symbol, -raw)
    fee_symbol, fee_raw = fee.get("feeSymbol"), str(fee.get("estimatedFee", ""))
    if isinstance(fee_symbol, str) and fee_raw.isdigit():  # the fee is paid in the native coin
        projections.add(wallet.id, holding.network, fee_symbol, -int(fee_raw))
    for alias in scope.run.playbook.wallets:
        other = await scope.wallets.wallet(alias)
        if same_address(other.address, request.to) and other.id != wallet.id:
            projections.add(other.id, holding.network, holding.symbol, raw)
    warnings = [f"{w.get('code')}: {w.get('message')}" for w in simulation.warnings]
    # the dry run only knows the real balance; earlier planned sends are ours to count
    fee_here = int(fee_raw) if fee_symbol == holding.symbol and fee_raw.isdigit() else 0
    if holding.raw < raw + fee_here:
        warnings.append(
            f"PROJECTED_BALANCE: {wallet.label} would hold {holding.amount} by then, "
            "less than this send needs"
        )
    if not simulation.success:
        reason = simulation.policy.get("reason") or "denied by the daemon's policy"
        warnings.insert(0, f"the daemon would refuse this send: {reason}")
    return {
        "sent": False,  # a plan never sends
        "would_send": simulation.success,
        "id": None,
        "status": "PLANNED",
        "tier": None if simulation.tier is None else str(simulation.tier),
        "fee": _fee_amount(fee),
        "warnings": warnings,
    }


def _fee_amount(fee: dict[str, Any]) -> Amount | None:
    raw, symbol, decimals = fee.get("estimatedFee"), fee.get("feeSymbol"), fee.get("feeDecimals")
    if not (isinstance(raw, str) and raw.isdigit() and isinstance(symbol, str)):
        return None
    if not isinstance(decimals, int):
        return None
    return Amount(to_token_units(raw, decimals), symbol)
