"""Comparing addresses the way chains do."""

from __future__ import annotations

__all__ = ["same_address"]


def same_address(a: str | None, b: str | None) -> bool:
    """EVM (``0x``) addresses are case-insensitive (checksum casing); others compare exactly."""
    if a is None or b is None:
        return False
    if a.startswith("0x") and b.startswith("0x"):
        return a.lower() == b.lower()
    return a == b
