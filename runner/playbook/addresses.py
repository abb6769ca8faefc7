"""Recipient addresses: their shapes, how two of them compare, and EVM checksums.

EVM addresses are case-insensitive hex; mixed case carries an EIP-55 checksum, which is
checked, so a mistyped mixed-case address is an error instead of a send to a stranger.
The checksum is Keccak-256 (Ethereum's pre-standard SHA-3 padding), which is *not*
``hashlib.sha3_256``: the two give different digests for the same input. pycryptodome
provides the Keccak variant. Solana (base58) and XRPL addresses are case-sensitive.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from runner.addresses import same_address
from runner.lazy import lazy_module

if TYPE_CHECKING:
    from Crypto.Hash import keccak
else:
    keccak = lazy_module("Crypto.Hash.keccak")  # only mixed-case (checksummed) addresses

__all__ = ["ADDRESS", "EVM_ADDRESS", "address_problem", "checksum_problem", "eip55", "same_address"]

EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}\Z")  # \Z: "$" would let a trailing newline in
# EVM 0x-hex, Solana base58 public key, XRPL classic address
ADDRESS = re.compile(
    r"^(0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{32,44}|r[1-9A-HJ-NP-Za-km-z]{24,34})\Z"
)


def eip55(address: str) -> str:
    """The EIP-55 checksummed spelling of an EVM address."""
    hex_digits = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=hex_digits.encode("ascii")).hexdigest()
    return "0x" + "".join(
        char.upper() if char.isalpha() and int(nibble, 16) >= 8 else char
        for char, nibble in zip(hex_digits, digest, strict=False)
    )


def checksum_problem(address: str) -> str | None:
    """Why a mixed-case EVM address cannot be trusted, or None (all one case: no checksum)."""
    if not EVM_ADDRESS.match(address):
        return None
    letters = [char for char in address[2:] if char.isalpha()]
    if all(char.islower() for char in letters) or all(char.isupper() for char in letters):
        return None
    if address == eip55(address):
        return None
    return (
        f"{address} is mixed case but its EIP-55 checksum does not match: a character is "
        "probably mistyped; copy the address again from its source"
    )


def address_problem(text: str) -> str | None:
    """Why ``text`` cannot be a recipient address, or None. The same rule holds for an
    address written in the playbook (validate) and one a run computes (env, expressions)."""
    if not ADDRESS.match(text):
        return f"{text!r} is neither a wallet alias nor an address"
    return checksum_problem(text)
