"""Everything one sandbox instance holds, wired together and seeded from the fixture.

The fixture seeds a new state (wallets, balances, sessions, JWT secret); an existing
state file keeps its own wallets, balances, sessions and transactions, while policy,
timings, tokens, limits and faults are always read from the fixture.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.sandbox.clock import Uuid7Factory
from runner.sandbox.errors import DaemonError
from runner.sandbox.faults import FaultSet
from runner.sandbox.fixture import Fixture, SessionSpec, TokenSpec
from runner.sandbox.lifecycle import Lifecycle
from runner.sandbox.networks import NETWORKS, Network, networks_for
from runner.sandbox.ratelimit import RateLimiter
from runner.sandbox.sessions import Sessions
from runner.sandbox.state import NATIVE, SessionRow, Store, WalletRow


@dataclass(frozen=True)
class ReadySession:
    id: str
    token: str = field(repr=False)  # a secret everywhere but on the ready line


class SandboxCore:
    def __init__(
        self, fixture: Fixture, state_path: str | Path | None, clock: Callable[[], float]
    ) -> None:
        self.fixture = fixture
        self.clock = clock
        self.store = Store(state_path)
        self.new_id = Uuid7Factory(clock)
        self.new_id.seed(self.store.newest_tx_id())
        if self.store.get_meta("secret") is None:
            self._seed()
        self.wallets: dict[str, WalletRow] = {w.id: w for w in self.store.wallets()}
        secret = self.store.get_meta("secret")
        assert secret is not None
        self.sessions = Sessions(self.store, clock, self.new_id, secret)
        self.lifecycle = Lifecycle(self.store, fixture, clock, self.wallets)
        self.faults = FaultSet(fixture.faults)
        self.limiter = RateLimiter(fixture.rate_limits, clock)
        self.started_at = clock()
        self.ready = self._ready_session()

    def close(self) -> None:
        self.store.close()

    # -- seeding ----------------------------------------------------------------------
    def _seed(self) -> None:
        with self.store.transaction():
            self.store.set_meta("secret", secrets.token_urlsafe(32))
            for spec in self.fixture.wallets:
                wallet = WalletRow(
                    id=spec.id or self.new_id(),
                    name=spec.name,
                    chain=spec.chain,
                    environment=spec.environment,
                    network=spec.default_network,
                    address=spec.address,
                )
                self.store.add_wallet(wallet)
                for network, amounts in spec.balances.items():
                    for symbol, amount in amounts.items():
                        self.store.set_balance(
                            wallet.id, network, self._asset(network, symbol), amount
                        )

    def _asset(self, network: str, symbol: str) -> str:
        if symbol == NETWORKS[network].native_symbol:
            return NATIVE
        token = self.fixture.token(network, symbol)
        assert token is not None  # the fixture validated its symbols
        return token.address.lower()

    def _ready_session(self) -> ReadySession:
        """The session on the ready line: the stored one if still usable, else a new one."""
        stored = self.store.get_meta("ready_session")
        session = self.store.session(stored) if stored else None
        if session is not None and self.sessions.is_usable(session):
            return ReadySession(session.id, self.sessions.current_token(session))
        session, token = self.create_session(self.fixture.sessions[0])
        self.store.set_meta("ready_session", session.id)
        return ReadySession(session.id, token)

    def create_session(self, spec: SessionSpec) -> tuple[SessionRow, str]:
        return self.sessions.create(
            [self.wallet_named(name).id for name in spec.wallets],
            spec.ttl,
            spec.max_renewals,
            spec.absolute_lifetime,
        )

    def wallet_named(self, name_or_id: str) -> WalletRow:
        for wallet in self.wallets.values():
            if name_or_id in (wallet.name, wallet.id):
                return wallet
        raise KeyError(name_or_id)

    # -- what the routes share --------------------------------------------------------
    def resolve_wallet(self, session: SessionRow, wallet_id: str | None) -> WalletRow:
        """The daemon's wallet selection (waiaas-api.md §2.1)."""
        linked = session.wallets
        if wallet_id is None:
            if len(linked) != 1:
                raise DaemonError(
                    "WALLET_ID_REQUIRED",
                    f"walletId is required: this session is linked to {len(linked)} wallets",
                )
            wallet_id = linked[0]
        elif wallet_id not in linked:
            raise DaemonError(
                "WALLET_ACCESS_DENIED", f"Wallet '{wallet_id}' is not linked to this session"
            )
        wallet = self.wallets.get(wallet_id)
        if wallet is None:
            raise DaemonError("WALLET_NOT_FOUND", f"Wallet '{wallet_id}' not found")
        return wallet

    def wallet_networks(self, wallet: WalletRow) -> list[Network]:
        return networks_for(wallet.chain, wallet.environment)

    def tokens_on(self, network: str) -> list[TokenSpec]:
        return [token for token in self.fixture.tokens if token.network == network]

    def ready_line(self, url: str) -> dict[str, Any]:
        """What `waiaas-run sandbox` prints once it is listening."""
        return {
            "url": url,
            "token": self.ready.token,
            "session_id": self.ready.id,
            "wallets": [
                {
                    "id": w.id,
                    "name": w.name,
                    "chain": w.chain,
                    "network": w.network,
                    "address": w.address,
                }
                for w in self.wallets.values()
            ],
        }
