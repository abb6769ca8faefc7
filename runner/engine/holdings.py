"""Reading what a wallet holds, with the decimals the daemon reports.

The playbook's own idea of a token (``tokens:`` decimals, a network's native symbol) is
checked against the daemon's answer: if they disagree, converting an amount would move
the wrong number of smallest units, so the step fails instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.client import AllocatedAsset, TokenSpec, to_token_units
from runner.engine.scope import StepScope
from runner.engine.wallets import ResolvedWallet
from runner.errors import StepFailed
from runner.playbook import Amount

__all__ = ["Holding", "native_holding", "token_holding", "token_spec"]


@dataclass(frozen=True)
class Holding:
    raw: int  # smallest units, projected sends included when planning
    decimals: int
    symbol: str
    network: str | None
    address: str | None

    @property
    def amount(self) -> Amount:
        return Amount(to_token_units(self.raw, self.decimals), self.symbol)


async def native_holding(
    scope: StepScope, wallet: ResolvedWallet, network: str | None, expected: str | None = None
) -> Holding:
    balance = await scope.run.client.get_balance(network, wallet_id=wallet.id)
    if expected is not None and balance.symbol != expected:
        raise StepFailed(
            f"wallet {wallet.label} on {balance.network}: its native coin is {balance.symbol}, "
            f"not {expected}"
        )
    raw = balance.raw + scope.projections.of(wallet.id, balance.network, balance.symbol)
    return Holding(raw, balance.decimals, balance.symbol, balance.network, balance.address)


def _is_token(asset: AllocatedAsset, address: str | None, asset_id: str | None) -> bool:
    if asset_id is not None and asset.asset_id is not None:
        return asset.asset_id.lower() == asset_id.lower()
    return address is not None and asset.mint.lower() == address.lower()


async def token_holding(
    scope: StepScope,
    wallet: ResolvedWallet,
    network: str | None,
    symbol: str,
    *,
    absent_is_zero: bool = False,
) -> Holding:
    """``absent_is_zero``: a read of a token the daemon does not list (it leaves out zero
    balances) is 0 in the playbook's decimals; a send still needs the daemon's decimals."""
    token = scope.run.playbook.tokens[symbol]
    assets = await scope.run.client.get_assets(network, wallet_id=wallet.id)
    found = next((a for a in assets.assets if _is_token(a, token.address, token.asset_id)), None)
    resolved_network = assets.network or network
    if found is None and absent_is_zero:
        raw = scope.projections.of(wallet.id, resolved_network, symbol)
        return Holding(raw, token.decimals, symbol, resolved_network, None)
    if found is None:
        raise StepFailed(
            f"wallet {wallet.label}: the daemon reports no {symbol} "
            f"({token.address or token.asset_id}) on {assets.network or network}; "
            "is the token registered or allowed by policy?"
        )
    if found.decimals != token.decimals:
        raise StepFailed(
            f"{symbol}: the playbook says {token.decimals} decimals, the daemon says "
            f"{found.decimals}; fix tokens.{symbol}.decimals before anything is sent"
        )
    raw = found.raw + scope.projections.of(wallet.id, resolved_network, symbol)
    return Holding(raw, found.decimals, symbol, resolved_network, None)


def token_spec(scope: StepScope, symbol: str) -> TokenSpec | None:
    """The ``token`` of a TOKEN_TRANSFER, or None for the native coin."""
    token = scope.run.playbook.tokens.get(symbol)
    if token is None:
        return None
    if token.asset_id is not None:
        return TokenSpec(asset_id=token.asset_id, decimals=token.decimals, symbol=symbol)
    return TokenSpec(address=token.address, decimals=token.decimals, symbol=symbol)
