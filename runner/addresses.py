"""How two addresses compare: the one rule for every room (client, ledger, playbook, engine).

EVM addresses (``0x`` hex) are case-insensitive: mixed case is only an EIP-55 checksum, so
two spellings of one address are the same recipient. Solana (base58, which has no ``0``)
and XRPL (``r…``) addresses are case-sensitive and compare exactly. Standard library only,
so the client stays usable on its own.
"""

from __future__ import annotations

__all__ = ["same_address"]


def same_address(a: str | None, b: str | None) -> bool:
    """True when ``a`` and ``b`` name the same address (never for a missing one)."""
    if a is None or b is None:
        return False
    if a.startswith("0x") and b.startswith("0x"):
        return a.lower() == b.lower()
    return a == b
