"""Typed shapes of the daemon's JSON answers (waiaas-api.md §2-§4, §6).

Every model accepts the daemon's camelCase names and our snake_case ones, keeps unknown
fields (a newer daemon may add some), and keeps amounts exact: smallest-unit integers
travel as the daemon's decimal strings and convert to ``int`` / ``Decimal`` on demand.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    model_validator,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "AllBalances",
    "AllocatedAsset",
    "AmountMixin",
    "CancelResult",
    "ConnectInfo",
    "ConnectSession",
    "ConnectWallet",
    "DaemonModel",
    "Health",
    "IntegerString",
    "NetworkBalance",
    "PendingTransactions",
    "PolicyTier",
    "RenewedSession",
    "SendResult",
    "Simulation",
    "TokenSpec",
    "Transaction",
    "TransactionList",
    "TransactionStatus",
    "WalletAddress",
    "WalletAssets",
    "WalletBalance",
    "to_token_units",
]


class _OpenEnum(StrEnum):
    """A string enum that keeps values it does not know instead of failing.

    A daemon newer than this client may add a status or tier; a run must not crash on it.
    Unknown values become pseudo-members (``member.known`` is False).
    """

    @classmethod
    def _missing_(cls, value: object) -> _OpenEnum | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def known(self) -> bool:
        return self._name_ in type(self).__members__


class TransactionStatus(_OpenEnum):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    EXECUTING = "EXECUTING"
    SUBMITTED = "SUBMITTED"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    PARTIAL_FAILURE = "PARTIAL_FAILURE"
    SIGNED = "SIGNED"
    GAS_WAITING = "GAS_WAITING"

    @property
    def terminal(self) -> bool:
        """True once the daemon will never change this transaction again."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        TransactionStatus.CONFIRMED,
        TransactionStatus.FAILED,
        TransactionStatus.CANCELLED,
        TransactionStatus.EXPIRED,
        TransactionStatus.PARTIAL_FAILURE,
        TransactionStatus.SIGNED,
    }
)


class PolicyTier(_OpenEnum):
    INSTANT = "INSTANT"
    NOTIFY = "NOTIFY"
    DELAY = "DELAY"
    APPROVAL = "APPROVAL"


def to_token_units(raw: int | str, decimals: int) -> Decimal:
    """Exact conversion of a smallest-unit integer to token units (no float, no rounding)."""
    value = int(raw)
    digits = str(abs(value))
    if decimals > 0:  # placed by text, not arithmetic: a Decimal context rounds past 28 digits
        padded = digits.rjust(decimals + 1, "0")
        whole, fraction = padded[:-decimals], padded[-decimals:].rstrip("0")
        digits = f"{whole}.{fraction}" if fraction else whole  # 10**19 wei reads 10
    elif decimals < 0:
        digits += "0" * -decimals
    return Decimal(f"-{digits}" if value < 0 else digits)


class DaemonModel(BaseModel):
    """Base for every answer: camelCase aliases, snake_case accepted, extra fields kept."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
        defer_build=True,
    )


def _integer_string(value: Any) -> Any:
    # Smallest-unit amounts must stay integers; the daemon sends them as digit strings.
    if isinstance(value, (bool, float)):
        raise ValueError("an amount must be an integer string, not a float or bool")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        raise ValueError(f"an amount must be an integer string, got {value!r}")
    return value


IntegerString = Annotated[str, BeforeValidator(_integer_string)]
"""A smallest-unit amount as the daemon writes it: a base-10 integer string."""


class AmountMixin:
    """``raw``/``amount`` helpers for models carrying ``balance`` + ``decimals``."""

    balance: str
    decimals: int

    @property
    def raw(self) -> int:
        return int(self.balance)

    @property
    def amount(self) -> Decimal:
        return to_token_units(self.balance, self.decimals)


_WALLET_ID = Field(validation_alias=AliasChoices("walletId", "wallet_id", "agentId"))


class Health(DaemonModel):
    status: str
    version: str | None = None
    latest_version: str | None = None
    update_available: bool | None = None
    schema_version: int | None = None
    uptime: int | None = None
    timestamp: int | None = None


class WalletAddress(DaemonModel):
    wallet_id: str = _WALLET_ID
    chain: str
    network: str
    address: str
    environment: str | None = None


class WalletBalance(AmountMixin, DaemonModel):
    wallet_id: str = _WALLET_ID
    chain: str
    network: str
    address: str | None = None
    balance: IntegerString
    decimals: int
    symbol: str
    balance_formatted: str | None = None
    display_balance: str | None = None
    display_currency: str | None = None
    chain_id: str | None = None
    asset_id: str | None = None


class NetworkBalance(DaemonModel):
    """One network of ``?network=all``: either a balance or the daemon's error text."""

    network: str
    balance: IntegerString | None = None
    decimals: int | None = None
    symbol: str | None = None
    balance_formatted: str | None = None
    error: str | None = None

    @property
    def amount(self) -> Decimal | None:
        if self.balance is None or self.decimals is None:
            return None
        return to_token_units(self.balance, self.decimals)


class AllBalances(DaemonModel):
    wallet_id: str = _WALLET_ID
    chain: str
    environment: str | None = None
    balances: list[NetworkBalance]


class AllocatedAsset(AmountMixin, DaemonModel):
    """One entry of ``/v1/wallet/assets``; ``mint`` is the token address or ``native``."""

    mint: str
    symbol: str
    name: str | None = None
    balance: IntegerString
    decimals: int
    is_native: bool = False
    usd_value: Any = None
    display_value: Any = None
    balance_formatted: str | None = None
    network: str | None = None
    chain_id: str | None = None
    asset_id: str | None = None


class WalletAssets(DaemonModel):
    wallet_id: str = _WALLET_ID
    chain: str
    network: str | None = None
    assets: list[AllocatedAsset]
    display_currency: str | None = None
    chain_id: str | None = None


class SendResult(DaemonModel):
    """What send answers: the transaction was *accepted* (status PENDING), not executed."""

    id: str
    status: TransactionStatus


class Transaction(DaemonModel):
    id: str
    wallet_id: str | None = _WALLET_ID
    type: str | None = None
    status: TransactionStatus
    tier: PolicyTier | None = None
    chain: str | None = None
    network: str | None = None
    to_address: str | None = None
    amount: IntegerString | None = None
    tx_hash: str | None = None
    error: str | None = None
    created_at: int | None = None
    amount_formatted: str | None = None
    amount_decimals: int | None = None
    amount_symbol: str | None = None
    chain_id: str | None = None

    @property
    def raw_amount(self) -> int | None:
        return None if self.amount is None else int(self.amount)


class TransactionList(DaemonModel):
    items: list[Transaction]
    cursor: str | None = None
    has_more: bool = False


class PendingTransactions(DaemonModel):
    items: list[Transaction]


class CancelResult(DaemonModel):
    id: str
    status: TransactionStatus


class RenewedSession(DaemonModel):
    id: str
    token: SecretStr
    expires_at: int
    renewal_count: int


class ConnectSession(DaemonModel):
    id: str
    expires_at: int = 0
    source: str | None = None


class ConnectWallet(DaemonModel):
    id: str
    name: str
    chain: str
    environment: str
    address: str | None = None
    owner_state: str | None = None
    available_networks: list[str] = Field(default_factory=list)


class ConnectInfo(DaemonModel):
    session: ConnectSession
    wallets: list[ConnectWallet]
    policies: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    capabilities: list[str] = Field(default_factory=list)
    daemon: dict[str, Any] = Field(default_factory=dict)

    def wallet_named(self, name: str) -> ConnectWallet | None:
        return next((wallet for wallet in self.wallets if wallet.name == name), None)


class Simulation(DaemonModel):
    """``POST /v1/transactions/simulate``: policy verdict, fee and balance changes, no writes."""

    success: bool
    policy: dict[str, Any] = Field(default_factory=dict)
    fee: dict[str, Any] | None = None
    balance_changes: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    simulation: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    @property
    def tier(self) -> PolicyTier | None:
        tier = self.policy.get("tier")
        return PolicyTier(tier) if isinstance(tier, str) else None


class TokenSpec(DaemonModel):
    """A TOKEN_TRANSFER token: address + decimals + symbol, or a CAIP-19 ``asset_id``."""

    address: str | None = None
    decimals: int | None = Field(default=None, ge=0, le=18)
    symbol: str | None = Field(default=None, min_length=1, max_length=10)
    asset_id: str | None = None

    @model_validator(mode="after")
    def _identified(self) -> TokenSpec:
        complete = None not in (self.address, self.decimals, self.symbol)
        if self.asset_id is None and not complete:
            raise ValueError("a token needs address, decimals and symbol, or an asset_id")
        return self
