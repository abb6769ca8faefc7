"""The daemon's JSON shapes, field for field and in the daemon's key order.

References: waiaas-recorded.md (A, B.8-B.23, B.58) and waiaas-api.md §2, §4.3-4.5.
Amounts are smallest-unit integer strings; ``*Formatted`` are exact decimal strings.
USD display fields are null because the sandbox, like an offline daemon, has no prices.
"""

from __future__ import annotations

from typing import Any

from runner.sandbox.fixture import TokenSpec
from runner.sandbox.networks import Network, auto_network, format_units
from runner.sandbox.state import TxRow, WalletRow


def tx_detail(tx: TxRow, network: Network) -> dict[str, Any]:
    body = _tx_common(tx)
    native = tx.type == "TRANSFER"
    amount = int(tx.amount)
    body.update(
        displayAmount=None,
        displayCurrency="USD",
        amountFormatted=format_units(amount, network.native_decimals) if native else None,
        amountDecimals=network.native_decimals if native else None,
        amountSymbol=network.native_symbol if native else None,
        contractName=None,
        contractNameSource=None,
        chainId=network.caip2,
    )
    return body


def tx_pending_item(tx: TxRow, network: Network) -> dict[str, Any]:
    """Items of GET /v1/transactions/pending lack the display/formatted fields."""
    body = _tx_common(tx)
    body.update(contractName=None, contractNameSource=None, chainId=network.caip2)
    return body


def _tx_common(tx: TxRow) -> dict[str, Any]:
    return {
        "id": tx.id,
        "walletId": tx.wallet_id,
        "type": tx.type,
        "status": tx.status,
        "tier": tx.tier,
        "chain": tx.chain,
        "network": tx.network,
        "toAddress": tx.to_address,
        "amount": tx.amount,
        "txHash": tx.tx_hash,
        "error": tx.error,
        "createdAt": int(tx.created_at),
    }


def address(wallet: WalletRow) -> dict[str, Any]:
    # Quirk kept from the daemon: EVM wallets report the chain name as their network.
    solana = auto_network(wallet.chain, wallet.environment)
    return {
        "walletId": wallet.id,
        "chain": wallet.chain,
        "network": solana.name if solana else wallet.chain,
        "environment": wallet.environment,
        "address": wallet.address,
    }


def balance(wallet: WalletRow, network: Network, amount: int) -> dict[str, Any]:
    return {
        "walletId": wallet.id,
        "chain": wallet.chain,
        "network": network.name,
        "address": wallet.address,
        "balance": str(amount),
        "decimals": network.native_decimals,
        "symbol": network.native_symbol,
        "balanceFormatted": format_units(amount, network.native_decimals),
        "displayBalance": None,
        "displayCurrency": "USD",
        "chainId": network.caip2,
        "assetId": network.native_asset_id,
    }


def balance_entry(network: Network, amount: int) -> dict[str, Any]:
    """One element of ``balances[]`` for ``?network=all``."""
    return {
        "network": network.name,
        "balance": str(amount),
        "decimals": network.native_decimals,
        "symbol": network.native_symbol,
        "balanceFormatted": format_units(amount, network.native_decimals),
    }


def all_balances(wallet: WalletRow, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "walletId": wallet.id,
        "chain": wallet.chain,
        "environment": wallet.environment,
        "balances": entries,
    }


def native_asset(network: Network, amount: int) -> dict[str, Any]:
    return {
        "mint": "native",
        "symbol": network.native_symbol,
        "name": network.native_name,
        "balance": str(amount),
        "decimals": network.native_decimals,
        "isNative": True,
        "displayValue": None,
        "balanceFormatted": format_units(amount, network.native_decimals),
        "network": network.name,
        "chainId": network.caip2,
        "assetId": network.native_asset_id,
    }


def token_asset(network: Network, token: TokenSpec, amount: int) -> dict[str, Any]:
    return {
        "mint": token.address,
        "symbol": token.symbol,
        "name": token.name,
        "balance": str(amount),
        "decimals": token.decimals,
        "isNative": False,
        "displayValue": None,
        "balanceFormatted": format_units(amount, token.decimals),
        "network": network.name,
        "chainId": network.caip2,
        "assetId": network.token_asset_id(token.address),
    }


def assets(wallet: WalletRow, network: Network, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "walletId": wallet.id,
        "chain": wallet.chain,
        "network": network.name,
        "assets": items,
        "displayCurrency": "USD",
        "chainId": network.caip2,
    }


def all_assets(wallet: WalletRow, per_network: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "walletId": wallet.id,
        "chain": wallet.chain,
        "environment": wallet.environment,
        "networkAssets": per_network,
    }
