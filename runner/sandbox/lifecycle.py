"""How a transaction moves on after ``201 {id, status: PENDING}``.

Each non-terminal transaction stores when its next step is due (``next_at``, sandbox
clock). :meth:`Lifecycle.advance` takes every step that is due, earliest first, using
the scheduled time as the time of the step; it runs on every read and on a short tick,
so a frozen test clock, a restarted sandbox and a live one all see the same sequence:

- INSTANT / NOTIFY: PENDING -> SUBMITTED (txHash) -> CONFIRMED
- DELAY:    PENDING -> QUEUED -> (delay) EXECUTING -> SUBMITTED -> CONFIRMED
- APPROVAL: PENDING -> QUEUED -> approve: EXECUTING -> ... | reject: CANCELLED | timeout: EXPIRED
- recipient outside the allow-list: PENDING -> CANCELLED (policy reason in ``error``)
- bad address or amount + fee above the balance: -> FAILED (error text) when executed
- a "stuck" recipient: stays SUBMITTED until it is unstuck
- two signings of one wallet that overlap: the later one FAILED (``runner.sandbox.signing``)
Balances change on CONFIRMED (sender pays amount + fee; a sandbox recipient is credited).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

from runner.sandbox.fixture import Fixture, PolicySpec, WalletSpec
from runner.sandbox.networks import NETWORKS, base58, is_valid_address, same_address
from runner.sandbox.signing import SigningRace
from runner.sandbox.state import NATIVE, Store, TxRow, WalletRow


class Decision(NamedTuple):
    """The policy's answer for one transaction."""

    tier: str
    wait: float | None  # seconds QUEUED; None = executes right away
    downgraded: bool = False  # APPROVAL turned into DELAY because the wallet has no owner


class TransitionError(Exception):
    """A control action (approve / reject / cancel) that does not fit the current status."""


class Lifecycle:
    def __init__(
        self,
        store: Store,
        fixture: Fixture,
        clock: Callable[[], float],
        wallets: dict[str, WalletRow],
    ) -> None:
        self._store = store
        self._fixture = fixture
        self._clock = clock
        self._wallets = wallets
        self._specs: dict[str, WalletSpec] = {spec.name: spec for spec in fixture.wallets}
        self.timings = fixture.timings  # the control endpoint may change the pipeline's
        self.signing = SigningRace(store, fixture.signing_race, self._signs_when_due)
        self.stuck_recipients: set[str] = {a.lower() for a in fixture.stuck_recipients}
        # Running totals, so a step never scans the wallet's history: native amounts held by
        # QUEUED sends per (wallet, network), and what SUBMITTED sends will take (amount and
        # fee) per (wallet, network, asset).
        self._queued: Counter[tuple[str, str]] = Counter()
        self._in_flight: Counter[tuple[str, str, str]] = Counter()
        for tx in store.txs_with_status(None, ("QUEUED", "SUBMITTED")):
            self._count(tx, tx.status, +1)

    def _move(self, tx: TxRow, status: str, **changes: Any) -> None:
        """Store a new status for ``tx`` (whose ``status`` is the old one) and keep totals."""
        self._store.update_tx(tx.id, status=status, **changes)
        self._count(tx, tx.status, -1)
        self._count(tx, status, +1)

    def _count(self, tx: TxRow, status: str, sign: int) -> None:
        if status == "QUEUED" and tx.asset == NATIVE:
            self._queued[tx.wallet_id, tx.network] += sign * int(tx.amount)
        elif status == "SUBMITTED":
            self._in_flight[tx.wallet_id, tx.network, tx.asset] += sign * int(tx.amount)
            fee = self._fixture.fee(tx.network)
            self._in_flight[tx.wallet_id, tx.network, NATIVE] += sign * fee

    # -- the automatic steps ------------------------------------------------------------
    def accept(self, tx: TxRow) -> None:
        """Stage 1 of the daemon: the row exists, PENDING (signing), and the rest is
        scheduled. Steps due by now are taken first, so "who else is signing" is current."""
        self.advance()
        self.signing.enter(tx, tx.created_at)
        self._store.add_tx(tx)

    def advance(self) -> None:
        now = self._clock()
        while (tx := self._store.next_due(now)) is not None:
            assert tx.next_at is not None
            self._step(tx, tx.next_at)

    def _step(self, tx: TxRow, at: float) -> None:
        if tx.status == "PENDING":
            self._evaluate(tx, at)
        elif tx.status == "QUEUED" and tx.tier == "APPROVAL":
            self._move(tx, "EXPIRED", next_at=None)
        elif tx.status == "QUEUED":
            self._release(tx, at)
        elif tx.status == "EXECUTING":
            self._execute(tx, at)
        elif tx.status == "SUBMITTED":
            self._confirm(tx)
        else:  # terminal rows never have a next step; clear a stray one
            self._store.update_tx(tx.id, next_at=None)

    def _release(self, tx: TxRow, at: float) -> None:
        """A DELAY send's cooldown is over. The daemon's delay worker releases one send at a
        time: while another of the wallet executes, this one waits for it."""
        executing = [
            other.next_at
            for other in self._store.txs_with_status(tx.wallet_id, ("EXECUTING",))
            if other.next_at is not None and other.next_at > at
        ]
        if executing:
            self._store.update_tx(tx.id, next_at=max(executing))
            return
        self.signing.enter(tx, at)
        self._move(tx, "EXECUTING", next_at=at + self.timings.execute_seconds)

    def _evaluate(self, tx: TxRow, at: float) -> None:
        """Policy: allow-list, then tier; INSTANT/NOTIFY execute right away."""
        denial = self.denial(tx)
        if denial is not None:
            self.signing.forget(tx.id)
            self._move(tx, "CANCELLED", next_at=None, error=denial)
            return
        tier, wait, _ = self.tier_for(tx)
        if wait is None:
            self._store.update_tx(tx.id, tier=tier)
            self._execute(tx, at)
        else:  # it signs once released; whether that collides is judged then
            self.signing.forget(tx.id)
            self._move(tx, "QUEUED", tier=tier, next_at=at + wait)

    def _signs_when_due(self, tx: TxRow) -> bool:
        """Whether a PENDING ``tx`` goes on to sign (not cancelled, queued or unbuildable)."""
        return (
            self.denial(tx) is None
            and self.tier_for(tx).wait is None
            and self.execution_failure(tx) is None
        )

    def denial(self, tx: TxRow) -> str | None:
        """The policy reason that cancels ``tx`` (recipient outside the allow-list), or None."""
        policy = self._policy(tx.wallet_id)
        allowed = policy.allowed_recipients if policy else None
        if allowed is None or any(same_address(tx.chain, tx.to_address, a) for a in allowed):
            return None
        return f"Address {tx.to_address} not in whitelist"

    def tier_for(self, tx: TxRow) -> Decision:
        """The tier and queue time; APPROVAL without an owner becomes DELAY, as in the daemon."""
        policy = self._policy(tx.wallet_id)
        if policy is None:
            return Decision("INSTANT", None)
        limits = (
            ("INSTANT", policy.instant_max),
            ("NOTIFY", policy.notify_max),
            ("DELAY", policy.delay_max),
        )
        if all(limit is None for _, limit in limits):
            return Decision("INSTANT", None)  # an allow-list-only policy sets no tiers
        if tx.type == "TOKEN_TRANSFER":
            return Decision(
                "NOTIFY", None
            )  # tokens have no price here: at least NOTIFY, as in the daemon
        amount = int(tx.amount) + self._reserved(tx)
        tier = "APPROVAL"
        for name, limit in limits:
            if limit is not None and amount <= limit:
                tier = name
                break
        if tier in ("INSTANT", "NOTIFY"):
            return Decision(tier, None)
        if tier == "DELAY":
            return Decision(tier, policy.delay_seconds)
        spec = self._spec(tx.wallet_id)
        if spec is None or spec.owner is None:
            return Decision("DELAY", self.timings.default_delay_seconds, downgraded=True)
        return Decision("APPROVAL", policy.approval_timeout)

    def _reserved(self, tx: TxRow) -> int:
        """What the wallet's other queued native sends already hold (the daemon adds it)."""
        held = self._queued[tx.wallet_id, tx.network]
        own = int(tx.amount) if tx.status == "QUEUED" and tx.asset == NATIVE else 0
        return held - own

    def _execute(self, tx: TxRow, at: float) -> None:
        collided = self.signing.outcome(tx.id)
        failure = self.execution_failure(tx) or collided
        if failure is not None:
            self._move(tx, "FAILED", next_at=None, error=failure)
            return
        stuck = tx.to_address.lower() in self.stuck_recipients
        self._move(
            tx,
            "SUBMITTED",
            tx_hash=_tx_hash(tx.chain),
            next_at=None if stuck else at + self.timings.confirm_seconds,
        )

    def execution_failure(self, tx: TxRow) -> str | None:
        """The error a sign/submit of ``tx`` would end with now, or None."""
        if not is_valid_address(tx.chain, tx.to_address):
            return f'Failed to build transaction: Address "{tx.to_address}" is invalid.'
        fee = self._fixture.fee(tx.network)
        native_need = fee + (int(tx.amount) if tx.asset == NATIVE else 0)
        native_have = self.available(tx.wallet_id, tx.network, NATIVE)
        if tx.asset != NATIVE:
            token_have = self.available(tx.wallet_id, tx.network, tx.asset)
            if int(tx.amount) > token_have:
                return (
                    "Failed to submit transaction: transfer amount exceeds balance "
                    f"({tx.token_symbol} balance {token_have}, amount {tx.amount})"
                )
        if native_need > native_have:
            if tx.chain == "solana":
                return (
                    f"Failed to submit transaction: insufficient lamports {native_have}, "
                    f"need {native_need}"
                )
            return (
                "Failed to submit transaction: Sender doesn't have enough funds to send tx. "
                f"The max upfront cost is: {native_need} and the sender's balance is: "
                f"{native_have}."
            )
        return None

    def available(self, wallet_id: str, network: str, asset: str) -> int:
        """Balance minus what submitted-but-unconfirmed sends will take."""
        in_flight = self._in_flight[wallet_id, network, asset]
        return self._store.balance(wallet_id, network, asset) - in_flight

    def _confirm(self, tx: TxRow) -> None:
        with self._store.transaction():
            self._move(tx, "CONFIRMED", next_at=None)
            self._store.add_to_balance(tx.wallet_id, tx.network, tx.asset, -int(tx.amount))
            self._store.add_to_balance(
                tx.wallet_id, tx.network, NATIVE, -self._fixture.fee(tx.network)
            )
            recipient = self._recipient(tx)
            if recipient is not None:
                self._store.add_to_balance(recipient.id, tx.network, tx.asset, int(tx.amount))

    def _recipient(self, tx: TxRow) -> WalletRow | None:
        environment = NETWORKS[tx.network].environment
        for wallet in self._wallets.values():
            if (
                wallet.chain == tx.chain
                and wallet.environment == environment
                and same_address(tx.chain, wallet.address, tx.to_address)
            ):
                return wallet
        return None

    # -- actions from outside -----------------------------------------------------------
    def cancel(self, tx: TxRow) -> None:
        """The agent's cancel: only QUEUED transactions (DELAY or APPROVAL)."""
        if tx.status != "QUEUED":
            raise TransitionError(tx.status)
        self._move(tx, "CANCELLED", next_at=None)

    def approve(self, tx: TxRow) -> None:
        self._require_open_approval(tx)
        now = self._clock()
        self.signing.enter(tx, now)
        self._move(tx, "EXECUTING", next_at=now + self.timings.execute_seconds)

    def reject(self, tx: TxRow) -> None:
        self._require_open_approval(tx)
        self._move(tx, "CANCELLED", next_at=None)

    def set_stuck(self, address: str, stuck: bool) -> None:
        """Switch "stays SUBMITTED forever" on or off for a recipient; off resumes them."""
        if stuck:
            self.stuck_recipients.add(address.lower())
            return
        self.stuck_recipients.discard(address.lower())
        resume_at = self._clock() + self.timings.confirm_seconds
        for wallet_id in self._wallets:
            for tx in self._store.txs_with_status(wallet_id, ("SUBMITTED",)):
                if tx.next_at is None and tx.to_address.lower() == address.lower():
                    self._store.update_tx(tx.id, next_at=resume_at)

    @staticmethod
    def _require_open_approval(tx: TxRow) -> None:
        if tx.status != "QUEUED" or tx.tier != "APPROVAL":
            raise TransitionError(f"{tx.status} (tier {tx.tier}) has no open approval")

    def _spec(self, wallet_id: str) -> WalletSpec | None:
        wallet = self._wallets.get(wallet_id)
        return None if wallet is None else self._specs.get(wallet.name)

    def _policy(self, wallet_id: str) -> PolicySpec | None:
        spec = self._spec(wallet_id)
        return None if spec is None else spec.policy


def _tx_hash(chain: str) -> str:
    if chain == "solana":
        return base58(os.urandom(64))
    return "0x" + os.urandom(32).hex()
