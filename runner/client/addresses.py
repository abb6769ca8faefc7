"""Comparing addresses the way chains do (the rule lives in :mod:`runner.addresses`)."""

from __future__ import annotations

from runner.addresses import same_address

__all__ = ["same_address"]
