"""Answers the real daemon gave (from shared/waiaas-recorded.md), used as parsing fixtures."""

from __future__ import annotations

from typing import Any

WALLET = "01a2139f-b3b6-7cd7-9ed3-a5759189c52d"
TX = "01a2139f-e353-7484-b362-349a643f3ff6"

ADDRESS: dict[str, Any] = {
    "walletId": WALLET,
    "chain": "ethereum",
    "network": "ethereum",
    "environment": "testnet",
    "address": "0x6D1c8005B49Ce8bF6b0D6537999cFE093b5D9A08",
}

BALANCE: dict[str, Any] = {
    "walletId": WALLET,
    "chain": "ethereum",
    "network": "ethereum-sepolia",
    "address": "0x6D1c8005B49Ce8bF6b0D6537999cFE093b5D9A08",
    "balance": "99998962920267177000",
    "decimals": 18,
    "symbol": "ETH",
    "balanceFormatted": "99.998962920267177",
    "displayBalance": None,
    "displayCurrency": "USD",
    "chainId": "eip155:11155111",
    "assetId": "eip155:11155111/slip44:60",
}

ALL_BALANCES: dict[str, Any] = {
    "walletId": WALLET,
    "chain": "ethereum",
    "environment": "testnet",
    "balances": [
        {
            "network": "ethereum-sepolia",
            "balance": "99395802745161156600",
            "decimals": 18,
            "symbol": "ETH",
            "balanceFormatted": "99.3958027451611566",
        },
        {"network": "polygon-amoy", "error": "Failed to get balance: HTTP request failed."},
    ],
}

ASSETS: dict[str, Any] = {
    "walletId": WALLET,
    "chain": "ethereum",
    "network": "ethereum-sepolia",
    "assets": [
        {
            "mint": "native",
            "symbol": "ETH",
            "name": "Ether",
            "balance": "100000000000000000000",
            "decimals": 18,
            "isNative": True,
            "displayValue": None,
            "balanceFormatted": "100",
            "network": "ethereum-sepolia",
            "chainId": "eip155:11155111",
            "assetId": "eip155:11155111/slip44:60",
        }
    ],
    "displayCurrency": "USD",
    "chainId": "eip155:11155111",
}

TRANSACTION: dict[str, Any] = {
    "id": TX,
    "walletId": WALLET,
    "type": "TRANSFER",
    "status": "CONFIRMED",
    "tier": "INSTANT",
    "chain": "ethereum",
    "network": "ethereum-sepolia",
    "toAddress": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "amount": "1000000000000000",
    "txHash": "0x194a936d6a49080dd7cb65272cdf1f5fd98f6535f10c6afa70f216eaee859324",
    "error": None,
    "createdAt": 1795625575,
    "displayAmount": None,
    "displayCurrency": "USD",
    "amountFormatted": "0.001",
    "amountDecimals": 18,
    "amountSymbol": "ETH",
    "contractName": None,
    "contractNameSource": None,
    "chainId": "eip155:11155111",
}

HEALTH: dict[str, Any] = {
    "status": "ok",
    "version": "2.15.0",
    "latestVersion": None,
    "updateAvailable": False,
    "schemaVersion": 62,
    "uptime": 9,
    "timestamp": 1795625044,
}

CONNECT_INFO: dict[str, Any] = {
    "session": {"id": "01a2139f-b49f-7123-93fa-a1c52dc7928d", "expiresAt": 0, "source": "api"},
    "wallets": [
        {
            "id": WALLET,
            "name": "treasury",
            "chain": "ethereum",
            "environment": "testnet",
            "address": "0x6D1c8005B49Ce8bF6b0D6537999cFE093b5D9A08",
            "ownerState": "NONE",
            "availableNetworks": ["ethereum-sepolia", "polygon-amoy"],
        }
    ],
    "policies": {WALLET: []},
    "capabilities": ["transfer"],
    "defaultDeny": {
        "tokenTransfers": True,
        "contractCalls": True,
        "tokenApprovals": True,
        "x402Domains": True,
    },
    "daemon": {"version": "2.15.0", "baseUrl": "http://127.0.0.1:3100"},
    "rpcProxy": None,
    "supportedChainIds": ["eip155:11155111"],
    "prompt": "You are connected to WAIaaS.",
}

SIMULATION: dict[str, Any] = {
    "success": True,
    "policy": {"tier": "DELAY", "allowed": True, "delaySeconds": 60},
    "fee": {
        "estimatedFee": "21000000000000",
        "feeSymbol": "ETH",
        "feeDecimals": 18,
        "feeUsd": None,
    },
    "balanceChanges": [
        {
            "asset": "native",
            "symbol": "ETH",
            "decimals": 18,
            "currentBalance": "100000000000000000000",
            "changeAmount": "-70000000000000000",
            "afterBalance": "99930000000000000000",
        }
    ],
    "warnings": [{"code": "DELAY_REQUIRED", "message": "delayed", "severity": "info"}],
    "simulation": {"success": True, "logs": [], "unitsConsumed": None, "error": None},
    "meta": {"chain": "ethereum", "network": "ethereum-sepolia", "transactionType": "TRANSFER"},
}
