"""One send, described once: :class:`TransferRequest`.

The engine builds it, the ledger records it, and the client posts it (and simulates it)
from the same value; :meth:`TransferRequest.body` is the only place a send's JSON body is
built, so what was recorded is what went on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runner.client.models import TokenSpec

__all__ = ["MAX_MEMO", "MAX_RAW", "TransferRequest", "TransferType"]

TransferType = Literal["TRANSFER", "TOKEN_TRANSFER"]
MAX_MEMO = 256  # the daemon's limit
MAX_RAW = 2**256 - 1  # no chain holds more smallest units than a uint256
_TOKEN_FIELDS = {"address", "decimals", "symbol", "asset_id"}


@dataclass(frozen=True)
class TransferRequest:
    """A transfer of ``raw`` smallest units to ``to``; validated when it is built.

    ``token`` is None for the native coin (a TRANSFER), else the token of a TOKEN_TRANSFER.
    """

    to: str
    raw: int
    token: TokenSpec | None = None
    memo: str | None = None
    network: str | None = None
    wallet_id: str | None = None
    symbol: str | None = None  # for people and limits; not part of the body

    def __post_init__(self) -> None:
        if not isinstance(self.to, str) or not self.to.strip():
            raise ValueError("the recipient 'to' must be a non-empty address")
        if isinstance(self.raw, bool) or not isinstance(self.raw, int) or self.raw < 0:
            raise ValueError(
                f"amount must be a non-negative integer of the smallest unit, got {self.raw!r}"
            )
        if self.raw > MAX_RAW:
            raise ValueError(f"amount {self.raw} is more than any chain can hold (2^256-1)")
        if self.memo is not None and len(self.memo) > MAX_MEMO:
            raise ValueError(f"memo is limited to {MAX_MEMO} characters")

    @classmethod
    def of(
        cls,
        to: str,
        amount: int | str,
        *,
        type: TransferType | None = None,
        token: TokenSpec | Mapping[str, Any] | None = None,
        memo: str | None = None,
        network: str | None = None,
        wallet_id: str | None = None,
        symbol: str | None = None,
    ) -> TransferRequest:
        """From loosely typed arguments (a digit string amount, a token mapping)."""
        if isinstance(amount, bool) or not isinstance(amount, int | str):
            raise ValueError("amount must be an integer of the smallest unit (int or digit string)")
        text = str(amount)
        if not text.isascii() or not text.isdigit():
            raise ValueError(
                f"amount must be a non-negative integer of the smallest unit, got {amount!r}"
            )
        kind = type or ("TOKEN_TRANSFER" if token is not None else "TRANSFER")
        if (kind == "TOKEN_TRANSFER") != (token is not None):
            raise ValueError("TOKEN_TRANSFER needs a token, and TRANSFER must not have one")
        spec = (
            None
            if token is None
            else token
            if isinstance(token, TokenSpec)
            else TokenSpec.model_validate(dict(token))
        )
        return cls(to, int(text), spec, memo, network, wallet_id, symbol)

    @property
    def type(self) -> TransferType:
        return "TRANSFER" if self.token is None else "TOKEN_TRANSFER"

    def body(self) -> dict[str, Any]:
        """The JSON body of ``POST /v1/transactions/send`` (and ``/simulate``)."""
        body: dict[str, Any] = {"type": self.type, "to": self.to, "amount": str(self.raw)}
        if self.token is not None:
            body["token"] = self.token.model_dump(
                by_alias=True, exclude_none=True, include=_TOKEN_FIELDS
            )
        optional = {"memo": self.memo, "network": self.network, "walletId": self.wallet_id}
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    @classmethod
    def from_body(cls, body: Mapping[str, Any], symbol: str | None = None) -> TransferRequest:
        """The request a recorded body describes (the ledger keeps bodies as JSON)."""
        return cls.of(
            str(body["to"]),
            str(body["amount"]),
            type=body.get("type"),
            token=body.get("token"),
            memo=body.get("memo"),
            network=body.get("network"),
            wallet_id=body.get("walletId"),
            symbol=symbol,
        )
