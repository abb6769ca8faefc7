"""Reading a send / simulate body the way the daemon's route does (waiaas-api.md §3.2-3.3).

Order: wallet, network, type, token, amount/humanAmount, then the schema checks that
the daemon reports as ``details.issues``. Anything raised here is a synchronous error
answer, so no transaction is created.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from runner.sandbox.core import SandboxCore
from runner.sandbox.errors import DaemonError, validation_error
from runner.sandbox.networks import Network, auto_network, lookup_network, networks_for
from runner.sandbox.state import SessionRow, TxRow, WalletRow

_INTEGER = re.compile(r"^\d+$")
_DAEMON_TYPES = (
    "TRANSFER",
    "TOKEN_TRANSFER",
    "CONTRACT_CALL",
    "APPROVE",
    "BATCH",
    "NFT_TRANSFER",
    "CONTRACT_DEPLOY",
)
SUPPORTED_TYPES = ("TRANSFER", "TOKEN_TRANSFER")


@dataclass(frozen=True)
class TokenRef:
    address: str
    decimals: int
    symbol: str


@dataclass(frozen=True)
class SendRequest:
    wallet: WalletRow
    network: Network
    type: str
    to: str
    amount: int
    token: TokenRef | None
    memo: str | None

    def pending_row(self, tx_id: str, created_at: float, next_at: float | None) -> TxRow:
        """The PENDING row this request becomes (a send stores it; a dry run only probes)."""
        return TxRow(
            id=tx_id,
            wallet_id=self.wallet.id,
            type=self.type,
            status="PENDING",
            tier=None,
            chain=self.wallet.chain,
            network=self.network.name,
            to_address=self.to,
            amount=str(self.amount),
            token_address=self.token.address if self.token else None,
            token_symbol=self.token.symbol if self.token else None,
            token_decimals=self.token.decimals if self.token else None,
            memo=self.memo,
            tx_hash=None,
            error=None,
            created_at=created_at,
            next_at=next_at,
        )


def parse_send(
    core: SandboxCore,
    session: SessionRow,
    body: Any,
    query_wallet_id: str | None,
    *,
    require_type: bool = False,
) -> SendRequest:
    if not isinstance(body, dict):
        raise validation_error("", "Expected object, received " + type(body).__name__)
    wallet = core.resolve_wallet(session, _optional_str(body.get("walletId")) or query_wallet_id)
    network = resolve_network(wallet, body.get("network"), for_send=True)
    tx_type = body.get("type")
    if tx_type is None:
        if require_type:  # simulate has no legacy form
            raise DaemonError("VALIDATION_FAILED", "type is required for /v1/transactions/simulate")
        tx_type = "TRANSFER"
    if tx_type not in _DAEMON_TYPES:
        expected = " | ".join(f"'{name}'" for name in _DAEMON_TYPES)
        raise validation_error("type", f"Invalid discriminator value. Expected {expected}")
    if tx_type not in SUPPORTED_TYPES:
        raise DaemonError(
            "ACTION_VALIDATION_FAILED",
            f"The sandbox supports TRANSFER and TOKEN_TRANSFER only, not {tx_type}",
        )
    token = _token(core, network, body.get("token")) if tx_type == "TOKEN_TRANSFER" else None
    decimals = token.decimals if token else network.native_decimals
    amount_text = _amount_text(body, decimals)
    issues: list[dict[str, str]] = []
    to = body.get("to")
    if to is None:
        issues.append({"path": "to", "message": "Required"})
    elif not isinstance(to, str) or not to:
        issues.append({"path": "to", "message": "Expected non-empty string"})
    if not isinstance(amount_text, str) or not _INTEGER.match(amount_text):
        issues.append(
            {"path": "amount", "message": "amount must be a numeric string (lamports/wei)"}
        )
    memo = body.get("memo")
    if memo is not None and (not isinstance(memo, str) or len(memo) > 256):
        issues.append({"path": "memo", "message": "String must contain at most 256 character(s)"})
    if issues:
        raise DaemonError("ACTION_VALIDATION_FAILED", "Validation error", {"issues": issues})
    assert isinstance(to, str) and isinstance(amount_text, str)
    return SendRequest(wallet, network, tx_type, to, int(amount_text), token, memo)


def resolve_network(wallet: WalletRow, value: Any, *, for_send: bool) -> Network:
    """The network a call means, or the daemon's error for a missing / foreign one."""
    if value is None or value == "":
        network = auto_network(wallet.chain, wallet.environment)
        if network is not None:
            return network
        if for_send:  # the send route maps NETWORK_REQUIRED to this code (api.md §3.3)
            raise DaemonError(
                "ENVIRONMENT_NETWORK_MISMATCH",
                f"Network is required for {wallet.chain} wallets in "
                f"{wallet.environment} environment",
            )
        raise DaemonError(
            "NETWORK_REQUIRED", f"Network query parameter is required for {wallet.chain} wallets"
        )
    network = lookup_network(str(value))
    if network is None:
        raise validation_error("network", f"Invalid network '{value}'")
    if network.chain != wallet.chain or network.environment != wallet.environment:
        valid = ", ".join(n.name for n in networks_for(wallet.chain, wallet.environment))
        raise DaemonError(
            "ENVIRONMENT_NETWORK_MISMATCH",
            f"Invalid network '{value}' for chain '{wallet.chain}' in environment "
            f"'{wallet.environment}'. Valid: {valid}",
        )
    return network


def _token(core: SandboxCore, network: Network, value: Any) -> TokenRef:
    if not isinstance(value, dict):
        raise validation_error("token", "Required")
    asset_id = value.get("assetId")
    if isinstance(asset_id, str) and asset_id:
        known = next(
            (
                t
                for t in core.tokens_on(network.name)
                if network.token_asset_id(t.address) == asset_id.lower()
                or network.token_asset_id(t.address) == asset_id
            ),
            None,
        )
        if "/slip44:" in asset_id:
            raise validation_error("token.assetId", "A native asset cannot be a token transfer")
        address = value.get("address") or (known.address if known else None)
        if known and value.get("address") and str(address).lower() != known.address.lower():
            raise validation_error("token.address", "token.address does not match token.assetId")
        value = {
            "address": address,
            "decimals": value.get("decimals", known.decimals if known else None),
            "symbol": value.get("symbol") or (known.symbol if known else None),
        }
    issues: list[dict[str, str]] = []
    if not isinstance(value.get("address"), str) or not value.get("address"):
        issues.append({"path": "token.address", "message": "Required"})
    decimals = value.get("decimals")
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 18:
        issues.append({"path": "token.decimals", "message": "Expected integer 0..18"})
    symbol = value.get("symbol")
    if not isinstance(symbol, str) or not 1 <= len(symbol) <= 10:
        issues.append({"path": "token.symbol", "message": "Expected string of 1..10 characters"})
    if issues:
        raise DaemonError("ACTION_VALIDATION_FAILED", "Validation error", {"issues": issues})
    return TokenRef(str(value["address"]), int(decimals), str(symbol))


def _amount_text(body: dict[str, Any], decimals: int) -> Any:
    """``amount`` as given, or ``humanAmount`` converted (digits past ``decimals`` dropped)."""
    amount, human = body.get("amount"), body.get("humanAmount")
    if amount is None and human is None:
        raise DaemonError(
            "ACTION_VALIDATION_FAILED", "Either amount or humanAmount must be provided."
        )
    if amount is not None and human is not None:
        raise DaemonError(
            "ACTION_VALIDATION_FAILED", "amount and humanAmount are mutually exclusive."
        )
    if human is None:
        return amount
    try:
        value = Decimal(str(human))
    except InvalidOperation:
        raise DaemonError("INTERNAL_ERROR", f"Invalid amount: {human}") from None
    if not value.is_finite() or value < 0 or "e" in str(human).lower():
        raise DaemonError("INTERNAL_ERROR", f"Invalid amount: {human}")
    # The daemon's parseAmount truncates extra digits silently; so does the sandbox.
    return str(int(value.scaleb(decimals)))


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
