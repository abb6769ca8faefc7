"""A money-safe async client for the WAIaaS daemon, usable on its own.

from runner.client import WAIaaSClient, WAIaaSError, RetryPolicy

async with WAIaaSClient("http://127.0.0.1:3100", token) as client:
    balance = await client.get_balance("ethereum-sepolia", wallet_id=wallet)
"""

from runner.client._client import WAIaaSClient
from runner.client.addresses import same_address
from runner.client.deadline import outside_deadline
from runner.client.errors import (
    ERROR_CODES,
    AmbiguousSendError,
    ErrorCode,
    InvalidResponseError,
    SessionRenewalError,
    TransportError,
    WAIaaSError,
)
from runner.client.models import (
    AllBalances,
    AllocatedAsset,
    CancelResult,
    ConnectInfo,
    ConnectWallet,
    Health,
    NetworkBalance,
    PendingTransactions,
    PolicyTier,
    RenewedSession,
    SendResult,
    Simulation,
    TokenSpec,
    Transaction,
    TransactionList,
    TransactionStatus,
    WalletAddress,
    WalletAssets,
    WalletBalance,
    to_token_units,
)
from runner.client.retry import RetryPolicy
from runner.client.session import SessionKeeper, TokenClaims, decode_token_claims
from runner.client.transfer import MAX_MEMO, MAX_RAW, TransferRequest, TransferType

__all__ = [
    "ERROR_CODES",
    "MAX_MEMO",
    "MAX_RAW",
    "AllBalances",
    "AllocatedAsset",
    "AmbiguousSendError",
    "CancelResult",
    "ConnectInfo",
    "ConnectWallet",
    "ErrorCode",
    "Health",
    "InvalidResponseError",
    "NetworkBalance",
    "PendingTransactions",
    "PolicyTier",
    "RenewedSession",
    "RetryPolicy",
    "SendResult",
    "SessionKeeper",
    "SessionRenewalError",
    "Simulation",
    "TokenClaims",
    "TokenSpec",
    "Transaction",
    "TransactionList",
    "TransactionStatus",
    "TransferRequest",
    "TransferType",
    "TransportError",
    "WAIaaSClient",
    "WAIaaSError",
    "WalletAddress",
    "WalletAssets",
    "WalletBalance",
    "decode_token_claims",
    "outside_deadline",
    "same_address",
    "to_token_units",
]
