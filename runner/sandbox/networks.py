"""The daemon's chain / environment / network tables, as far as the sandbox needs them.

Network names, CAIP-2 ids, native symbols and decimals follow waiaas-api.md §6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Network:
    name: str
    chain: str  # "ethereum" (every EVM network) or "solana"
    environment: str  # "mainnet" or "testnet"
    caip2: str
    native_symbol: str
    native_name: str

    @property
    def native_decimals(self) -> int:
        return NATIVE_DECIMALS[self.chain]

    @property
    def native_asset_id(self) -> str:
        if self.chain == "solana":
            return f"{self.caip2}/slip44:501"
        return f"{self.caip2}/slip44:60"

    def token_asset_id(self, address: str) -> str:
        if self.chain == "solana":
            return f"{self.caip2}/token:{address}"
        return f"{self.caip2}/erc20:{address.lower()}"


NATIVE_DECIMALS = {"ethereum": 18, "solana": 9}

_TABLE = [
    ("solana-mainnet", "solana", "mainnet", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "SOL"),
    ("solana-devnet", "solana", "testnet", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", "SOL"),
    ("solana-testnet", "solana", "testnet", "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z", "SOL"),
    ("ethereum-mainnet", "ethereum", "mainnet", "eip155:1", "ETH"),
    ("polygon-mainnet", "ethereum", "mainnet", "eip155:137", "POL"),
    ("arbitrum-mainnet", "ethereum", "mainnet", "eip155:42161", "ETH"),
    ("optimism-mainnet", "ethereum", "mainnet", "eip155:10", "ETH"),
    ("base-mainnet", "ethereum", "mainnet", "eip155:8453", "ETH"),
    ("hyperevm-mainnet", "ethereum", "mainnet", "eip155:999", "HYPE"),
    ("ethereum-sepolia", "ethereum", "testnet", "eip155:11155111", "ETH"),
    ("polygon-amoy", "ethereum", "testnet", "eip155:80002", "POL"),
    ("arbitrum-sepolia", "ethereum", "testnet", "eip155:421614", "ETH"),
    ("optimism-sepolia", "ethereum", "testnet", "eip155:11155420", "ETH"),
    ("base-sepolia", "ethereum", "testnet", "eip155:84532", "ETH"),
    ("hyperevm-testnet", "ethereum", "testnet", "eip155:998", "HYPE"),
]
_NATIVE_NAMES = {"ETH": "Ether", "POL": "Polygon Ecosystem Token", "HYPE": "HYPE", "SOL": "Solana"}

NETWORKS: dict[str, Network] = {
    name: Network(name, chain, env, caip2, symbol, _NATIVE_NAMES[symbol])
    for name, chain, env, caip2, symbol in _TABLE
}
_BY_CAIP2 = {network.caip2: network for network in NETWORKS.values()}
# The daemon still accepts the pre-2.0 Solana names on send.
_LEGACY_SOLANA = {
    "mainnet": "solana-mainnet",
    "devnet": "solana-devnet",
    "testnet": "solana-testnet",
}

# The fee a transfer burns, in the native smallest unit, unless the fixture says otherwise:
# 21000 gas at 2 gwei for EVM, the 5000-lamport signature fee for Solana.
DEFAULT_FEES = {"ethereum": 42_000_000_000_000, "solana": 5_000}


def networks_for(chain: str, environment: str) -> list[Network]:
    """The networks a wallet of this chain and environment may use, in the daemon's order."""
    return [n for n in NETWORKS.values() if n.chain == chain and n.environment == environment]


def lookup_network(value: str) -> Network | None:
    """A network by name, CAIP-2 id or legacy Solana name; None when unknown."""
    return (
        NETWORKS.get(value) or _BY_CAIP2.get(value) or NETWORKS.get(_LEGACY_SOLANA.get(value, ""))
    )


def auto_network(chain: str, environment: str) -> Network | None:
    """The network the daemon picks when none is given: only Solana has an unambiguous one."""
    if chain != "solana":
        return None
    return NETWORKS["solana-mainnet" if environment == "mainnet" else "solana-devnet"]


_EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_SOLANA_ADDRESS = re.compile(rf"^[{_BASE58}]{{32,44}}$")


def is_valid_address(chain: str, address: str) -> bool:
    pattern = _SOLANA_ADDRESS if chain == "solana" else _EVM_ADDRESS
    return bool(pattern.match(address))


def same_address(chain: str, left: str, right: str) -> bool:
    """EVM addresses compare case-insensitively (checksum casing), Solana ones exactly."""
    return left == right if chain == "solana" else left.lower() == right.lower()


def base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits = ""
    while number:
        number, remainder = divmod(number, 58)
        digits = _BASE58[remainder] + digits
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + digits


def format_units(amount: int, decimals: int) -> str:
    """The daemon's `formatAmount`: exact decimal string, trailing zeros stripped, "0" for zero."""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**decimals)
    if decimals == 0 or fraction == 0:
        return f"{sign}{whole}"
    digits = str(fraction).rjust(decimals, "0").rstrip("0")
    return f"{sign}{whole}.{digits}"
