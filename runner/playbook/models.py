"""The top-level playbook model (format version 1)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal, Self

from pydantic import Field, PlainValidator, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from runner.playbook.expressions import Template
from runner.playbook.fields import (
    FormatVersion,
    Identifier,
    Model,
    NetworkName,
    TextValue,
    exactly_one,
)
from runner.playbook.limits import Limits
from runner.playbook.loader import SourceFloat
from runner.playbook.schedule import Schedule
from runner.playbook.steps import Step

__all__ = ["ENV_NAME_PATTERN", "Daemon", "Notify", "Playbook", "Token", "Wallet"]

ENV_NAME_PATTERN = r"^[A-Z_][A-Z0-9_]*$"
EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN, max_length=128)]
Symbol = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9.]{0,9}$")]


class Daemon(Model):
    """Where the daemon is and which session token to use (by reference only)."""

    url: TextValue = Field(description="e.g. ${{ env.WAIAAS_URL }}")
    token: TextValue | None = Field(None, description="${{ env.NAME }}; never a literal token")
    token_file: str | None = Field(
        None, description="file holding the token (relative to the playbook)"
    )
    wallet: Identifier | None = Field(None, description="default wallet alias for steps")
    network: NetworkName | None = Field(None, description="default network for wallets without one")

    @field_validator("token")
    @classmethod
    def _reference_only(cls, token: Template | None) -> Template | None:
        if token is not None and token.is_static:
            raise PydanticCustomError(
                "token_literal",
                "token must be a reference such as ${{ env.WAIAAS_SESSION_TOKEN }}, "
                "or use token_file:",
            )
        return token

    @model_validator(mode="after")
    def _one_token_source(self) -> Self:
        exactly_one(self, "token", "token_file", kind="daemon", subject="daemon")
        return self


class Wallet(Model):
    """A wallet alias: the daemon's wallet id, or its name (resolved through connect-info)."""

    id: TextValue | None = None
    name: TextValue | None = None
    network: NetworkName | None = Field(None, description="default: daemon.network")

    @model_validator(mode="after")
    def _one_identity(self) -> Self:
        exactly_one(self, "id", "name", kind="wallet", subject="a wallet")
        return self


class Token(Model):
    """An ERC-20 / SPL token the playbook uses, so "250 USDC" can be checked before a run."""

    network: NetworkName
    decimals: int = Field(ge=0, le=36)
    address: str | None = Field(None, description="ERC-20 contract address or SPL mint")
    asset_id: str | None = Field(None, description="CAIP-19 asset id")

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        exactly_one(self, "address", "asset_id", kind="token", subject="a token")
        return self


NotifyEvent = Literal["failure", "send", "success"]


def _failures_only() -> list[NotifyEvent]:
    return ["failure"]


class Notify(Model):
    """Where the runner reports run events (a webhook that receives JSON)."""

    webhook: TextValue = Field(description="URL, e.g. ${{ env.ALERT_WEBHOOK }}")
    on: list[NotifyEvent] = Field(
        default_factory=_failures_only, description="which events to report"
    )


def _var_value(value: object) -> str | bool | Decimal | None:
    if isinstance(value, SourceFloat):
        try:  # exact: from the text, not the float
            number = Decimal(value.source.replace("_", ""))
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise PydanticCustomError(
                "var_number",
                f"{value.source} is not a plain decimal number: write digits like 0.5, or quote it",
            )
        return number
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if value is None or isinstance(value, str | bool):
        return value
    raise PydanticCustomError("var_type", "a variable is text, a number, true/false or null")


# Numbers become Decimal from their source text; "0.05 ETH" strings become amounts later.
VarValue = Annotated[
    str | bool | Decimal | None,
    PlainValidator(_var_value),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"]}),
]


class Playbook(Model):
    """A playbook, format version 1."""

    version: FormatVersion = Field(description="format version; always 1")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    description: str | None = None
    env: dict[EnvName, str | None] = Field(
        default_factory=dict,
        description="environment variables the playbook reads -> default (null: required)",
    )
    daemon: Daemon
    wallets: dict[Identifier, Wallet] = Field(default_factory=dict)
    tokens: dict[Symbol, Token] = Field(default_factory=dict)
    schedule: Schedule | None = None
    vars: dict[Identifier, VarValue] = Field(
        default_factory=dict, description='values for expressions; "0.05 ETH" becomes an amount'
    )
    limits: Limits = Field(default_factory=Limits)
    steps: list[Step] = Field(min_length=1)
    notify: Notify | None = None
