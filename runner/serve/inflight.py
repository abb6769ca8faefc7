"""Sends still going: intended (the request may be out) or accepted and not yet final."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.ledger import AWAITING_APPROVAL, Ledger
from runner.timestamps import iso_utc

__all__ = ["sends_in_flight"]


def sends_in_flight(
    ledger: Ledger, daemon_of: Callable[[str], str | None] = lambda playbook: None
) -> list[dict[str, Any]]:
    """Each send still going, oldest first; ``waiting_for`` is ``"approval"`` when its
    transaction is QUEUED for the wallet owner (a person must act), and ``daemon_url`` the
    daemon its playbook talks to (when serve knows it)."""
    return [
        {
            "key": send.key,
            "playbook": send.playbook,
            "run_id": send.run_id,
            "step": send.step_id,
            "state": send.state.value,
            "wallet": send.wallet_id,
            "network": send.network,
            "to": send.to_address,
            "amount_raw": str(send.amount_raw),
            "symbol": send.symbol,
            "tx_id": send.tx_id,
            "tx_status": send.tx_status,
            "waiting_for": "approval" if send.note == AWAITING_APPROVAL else None,
            "daemon_url": daemon_of(send.playbook),
            "intended_at": iso_utc(send.intended_at),
        }
        for send in ledger.sends_going()
    ]
