"""``send``: transfer an amount from a playbook wallet to a wallet alias or an address."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from runner.playbook.amounts import AmountError, AmountLiteral, RawAmount
from runner.playbook.expressions import Template
from runner.playbook.exprtypes import BOOL, NUMBER, STRING, ExprType, amount_of
from runner.playbook.fields import AmountValue, Identifier, NetworkName, TemplateText, TextValue
from runner.steps.base import Model, StaticFacts, StepModel, StepOutput
from runner.steps.errors import StepFailed

if TYPE_CHECKING:
    from runner.engine.context import ResolvedWallet, RunContext
    from runner.engine.holdings import Holding
    from runner.playbook.amounts import Amount


class SendSettings(Model):
    from_: Identifier | None = Field(
        None, alias="from", description="wallet alias; default daemon.wallet"
    )
    to: TextValue = Field(description="a wallet alias from wallets: or an address")
    amount: AmountValue = Field(description='e.g. "0.08 ETH", "250 USDC", {raw: 1500, token: ETH}')
    memo: TemplateText | None = Field(None, description="at most 256 characters")
    network: NetworkName | None = Field(None, description="default: the sending wallet's network")


class SendStep(StepModel):
    """Sends are exactly-once per (playbook, scheduled run, step); see the engine."""

    kind: ClassVar[str] = "send"
    outputs: ClassVar[dict[str, ExprType]] = {
        "sent": BOOL,
        "id": STRING,
        "status": STRING,
        "tier": STRING,
        "amount": amount_of(None),
        "raw": NUMBER,
        "to": STRING,
        "network": STRING,
    }
    send: SendSettings

    def declared_outputs(self, facts: StaticFacts) -> dict[str, ExprType]:
        amount = self.send.amount
        symbol = None
        try:
            if isinstance(amount, AmountLiteral):
                symbol = facts.units.unit(amount.unit).symbol
            elif isinstance(amount, RawAmount):
                symbol = facts.units.unit(amount.token).symbol
        except AmountError:
            symbol = None  # reported where the amount is checked
        return {**super().declared_outputs(facts), "amount": amount_of(symbol)}

    async def run(self, context: RunContext) -> StepOutput:
        from runner.engine import holdings, sending  # see base.py
        from runner.engine.limits import check_limits, daily_cap

        settings = self.send
        wallet = await context.wallet(settings.from_)
        network = context.render_text(settings.network) if settings.network else wallet.network
        amount = _amount_value(context, settings.amount)
        if amount.symbol in context.playbook.tokens:
            holding = await holdings.token_holding(context, wallet, network, amount.symbol)
        else:
            holding = await holdings.native_holding(context, wallet, network, amount.symbol)
        try:
            raw = amount.to_raw(holding.decimals)
        except AmountError as error:
            raise StepFailed(str(error)) from None
        to, alias = await context.recipient(context.render_text(settings.to))
        applied = await check_limits(context, amount, raw, holding.decimals, to, alias)
        memo = context.render_text(settings.memo) if settings.memo is not None else None
        token = holdings.token_spec(context, amount.symbol)
        output: dict[str, Any] = {
            "from": wallet.label,
            "amount": amount,
            "raw": raw,
            "to": to,
            "to_wallet": alias,
            "network": holding.network,
            "limits": applied,
        }
        if context.planning:
            planned = await _simulate(context, wallet, to, raw, token, memo, holding)
            _count_sent(context, amount.symbol, raw)  # so max_per_run judges later sends alike
            return output | planned
        accepted = await sending.send_exactly_once(
            context,
            wallet,
            to=to,
            raw=raw,
            symbol=amount.symbol,
            token=token,
            memo=memo,
            network=holding.network,
            daily_cap=daily_cap(context, amount.symbol, holding.decimals),
        )
        _count_sent(context, amount.symbol, raw)
        # The answer means accepted (PENDING); the tier shows once the daemon's policy ran,
        # so a wait step reports it. In a plan the dry run tells it.
        return output | {
            "sent": True,
            "id": accepted.tx_id,
            "status": accepted.status,
            "tier": None,
            "adopted": accepted.adopted,
        }


def _count_sent(context: RunContext, symbol: str, raw: int) -> None:
    context.sent_this_run[symbol] = context.sent_this_run.get(symbol, 0) + raw
    context.sends_this_run += 1


def _amount_value(context: RunContext, written: AmountLiteral | RawAmount | Template) -> Amount:
    from runner.playbook import Amount

    if isinstance(written, Template):
        value = context.render(written)
        if not isinstance(value, Amount):
            raise StepFailed(f"amount: {written} gave {value!r}, not an amount")
        return value
    return context.facts.units.resolve(written)


async def _simulate(
    context: RunContext,
    wallet: ResolvedWallet,
    to: str,
    raw: int,
    token: dict[str, Any] | None,
    memo: str | None,
    holding: Holding,
) -> dict[str, Any]:
    """Plan mode: ask the daemon's dry run, and project the balances later steps will read."""
    simulation = await context.client.simulate_transaction(
        to, raw, token=token, memo=memo, network=holding.network, wallet_id=wallet.id
    )
    fee = simulation.fee or {}
    key = (wallet.id or "", holding.network or "", holding.symbol)
    context.projected[key] = context.projected.get(key, 0) - raw
    fee_symbol, fee_raw = fee.get("feeSymbol"), str(fee.get("estimatedFee", ""))
    if isinstance(fee_symbol, str) and fee_raw.isdigit():  # the fee is paid in the native coin
        fee_key = (wallet.id or "", holding.network or "", fee_symbol)
        context.projected[fee_key] = context.projected.get(fee_key, 0) - int(fee_raw)
    for alias in context.playbook.wallets:
        other = await context.wallet(alias)
        if other.address and other.address.lower() == to.lower() and other.id != wallet.id:
            target = (other.id or "", holding.network or "", holding.symbol)
            context.projected[target] = context.projected.get(target, 0) + raw
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
        "sent": simulation.success,
        "id": None,
        "status": "PLANNED",
        "tier": None if simulation.tier is None else str(simulation.tier),
        "fee": _fee_amount(fee),
        "warnings": warnings,
    }


def _fee_amount(fee: dict[str, Any]) -> Amount | None:
    from runner.client import to_token_units
    from runner.playbook import Amount

    raw, symbol, decimals = fee.get("estimatedFee"), fee.get("feeSymbol"), fee.get("feeDecimals")
    if not (isinstance(raw, str) and raw.isdigit() and isinstance(symbol, str)):
        return None
    if not isinstance(decimals, int):
        return None
    return Amount(to_token_units(raw, decimals), symbol)
