"""Two signings of one wallet that overlap: the later one fails, as on the daemon.

The daemon answers ``201 PENDING`` before it signs; its pipeline then signs on its own,
and every signing rewrites the wallet's keystore file through one fixed temp name and
takes the wallet's next nonce. Recorded on v2.15.0 (waiaas-recorded.md, "Rate limits /
idempotency / concurrency" and Part C): three sends posted one right after the other's
201 ended CONFIRMED, CONFIRMED, FAILED ``ENOENT: ... rename '.../keystore/.<id>.json.tmp'
-> ...``; six parallel sends ended with two ``NONCE_TOO_LOW (stale retry exhausted)`` and
two ENOENT; sends each awaited past signing all CONFIRMED.

In the sandbox a transaction signs while it is ``PENDING`` on its way to SUBMITTED (an
INSTANT or NOTIFY send that the policy allows and that builds; one that will be
cancelled, queued or fail to build never reaches signing) and while it is ``EXECUTING``
(a released DELAY or an approved APPROVAL send). A transaction that starts signing while
other transactions of its wallet sign is marked; when its own signing ends it is FAILED
with the ENOENT text (one overlap) or the NONCE_TOO_LOW text (two or more). The earlier
signer is unharmed. The mark lives in memory: a restarted sandbox lets it through.
"""

from __future__ import annotations

from collections.abc import Callable

from runner.sandbox.state import Store, TxRow

__all__ = ["KEYSTORE", "SIGNING_STATUSES", "SigningRace", "collision_error"]

SIGNING_STATUSES = ("PENDING", "EXECUTING")
# where the error text says the keystore is (made up: the sandbox holds no keys)
KEYSTORE = "/var/lib/waiaas/keystore"


def collision_error(wallet_id: str, overlapping: int) -> str:
    """The daemon's error text for a signing that overlapped ``overlapping`` others."""
    if overlapping >= 2:
        return "NONCE_TOO_LOW (stale retry exhausted)"
    return (
        f"ENOENT: no such file or directory, rename '{KEYSTORE}/.{wallet_id}.json.tmp' -> "
        f"'{KEYSTORE}/{wallet_id}.json'"
    )


class SigningRace:
    """Which transactions' signings collided, decided as each one starts to sign."""

    def __init__(self, store: Store, enabled: bool, signs: Callable[[TxRow], bool]) -> None:
        self._store = store
        self._signs = signs  # whether a PENDING row is on its way to signing
        self._enabled = enabled
        self._doomed: dict[str, str] = {}  # tx id -> the error its signing ends with

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = value
        if not value:  # switched off: nothing collides from now on
            self._doomed.clear()

    def enter(self, tx: TxRow, at: float) -> None:
        """``tx`` starts signing at ``at``. Every step due before ``at`` has been taken, so
        a row in a signing status whose step is due after ``at`` is signing right then."""
        if not self._enabled or (tx.status == "PENDING" and not self._signs(tx)):
            return
        overlapping = [
            other
            for other in self._store.txs_with_status(tx.wallet_id, SIGNING_STATUSES)
            if other.id != tx.id
            and other.next_at is not None
            and other.next_at > at
            and (other.status == "EXECUTING" or self._signs(other))
        ]
        if overlapping:
            self._doomed[tx.id] = collision_error(tx.wallet_id, len(overlapping))

    def forget(self, tx_id: str) -> None:
        """``tx`` left its signing stage without signing (QUEUED, CANCELLED)."""
        self._doomed.pop(tx_id, None)

    def outcome(self, tx_id: str) -> str | None:
        """The error ``tx``'s signing ends with now, or None when it signed alone."""
        return self._doomed.pop(tx_id, None)
