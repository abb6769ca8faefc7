"""Wallet aliases and recipients, resolved through the daemon's connect-info once per run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from runner.client import ConnectInfo, WAIaaSClient
from runner.errors import StepFailed
from runner.ledger import Ledger
from runner.ledger.locks import wallet_lock
from runner.playbook import Playbook, Template
from runner.playbook.addresses import address_problem

__all__ = ["ResolvedWallet", "Wallets"]


@dataclass(frozen=True)
class ResolvedWallet:
    """A playbook wallet alias after the daemon told us who it is."""

    alias: str | None
    id: str | None  # None: the session's only wallet, chosen by the daemon
    name: str | None
    network: str | None
    address: str | None
    chain: str | None

    @property
    def label(self) -> str:
        return self.alias or self.name or self.id or "the session's wallet"


class Wallets:
    """``wallet(alias)`` and ``recipient(text)`` for the steps of one run."""

    def __init__(
        self,
        playbook: Playbook,
        client: WAIaaSClient,
        ledger: Ledger,
        render_text: Callable[[Template], str],
        *,
        connect_info: Callable[[], Awaitable[ConnectInfo]] | None = None,
    ) -> None:
        self.playbook = playbook
        self.client = client
        self.ledger = ledger
        self.render_text = render_text
        self._source = connect_info or client.get_connect_info
        self._connect_info: ConnectInfo | None = None
        self._wallets: dict[str | None, ResolvedWallet] = {}
        self._locks: dict[str | None, asyncio.Lock] = {}

    async def connect_info(self) -> ConnectInfo:
        if self._connect_info is None:
            self._connect_info = await self._source()
        return self._connect_info

    async def wallet(self, alias: str | None) -> ResolvedWallet:
        """Resolve a wallet alias (None: ``daemon.wallet``, else the session's only wallet)."""
        alias = alias or self.playbook.daemon.wallet
        if alias not in self._wallets:
            self._wallets[alias] = await self._resolve(alias)
        return self._wallets[alias]

    async def _resolve(self, alias: str | None) -> ResolvedWallet:
        info = await self.connect_info()
        default_network = self._optional(self.playbook.daemon.network)
        if alias is None:
            if len(info.wallets) != 1:
                raise StepFailed(
                    f"the session holds {len(info.wallets)} wallets; name one with "
                    "`wallet:` on the step or `daemon.wallet:`"
                )
            only = info.wallets[0]
            return ResolvedWallet(
                None, only.id, only.name, default_network, only.address, only.chain
            )
        spec = self.playbook.wallets[alias]
        network = self._optional(spec.network) or default_network
        if spec.id is not None:
            wallet_id = self.render_text(spec.id)
            found = next((w for w in info.wallets if w.id == wallet_id), None)
        else:
            name = self.render_text(spec.name) if spec.name is not None else ""
            found = info.wallet_named(name)
            if found is None:
                names = ", ".join(w.name for w in info.wallets) or "none"
                raise StepFailed(
                    f"wallet {alias!r}: the session has no wallet named {name!r} "
                    f"(its wallets: {names})"
                )
            wallet_id = found.id
        if found is None:
            raise StepFailed(f"wallet {alias!r}: id {wallet_id} is not linked to this session")
        return ResolvedWallet(alias, wallet_id, found.name, network, found.address, found.chain)

    def _optional(self, template: Template | None) -> str | None:
        return None if template is None else self.render_text(template)

    async def recipient(self, text: str) -> tuple[str, str | None]:
        """A ``to:`` value: a wallet alias becomes its address; anything else is an address."""
        if text in self.playbook.wallets:
            wallet = await self.wallet(text)
            if not wallet.address:
                raise StepFailed(f"wallet {text!r}: the daemon did not report its address")
            return wallet.address, text
        # A recipient computed at run time (env, vars, an expression) meets the rule a
        # written one meets at validate time: a mistyped checksummed address is not posted.
        if problem := address_problem(text):
            raise StepFailed(f"recipient {problem}; nothing was sent")
        return text, None

    @contextlib.asynccontextmanager
    async def lock(self, wallet: ResolvedWallet) -> AsyncIterator[None]:
        """Sends from one wallet go one at a time, across tasks and across processes that
        share the ledger: the daemon has no per-wallet nonce manager."""
        async with (
            self._locks.setdefault(wallet.id, asyncio.Lock()),
            wallet_lock(self.ledger.path, wallet.id),
        ):
            yield
