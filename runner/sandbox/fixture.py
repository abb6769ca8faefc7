"""The fixture: wallets, tokens, sessions, policy tiers, timings, limits and faults.

A fixture is a YAML (or JSON) file the user can edit; ``default_fixture.yaml`` next to
this module ships with the package. Amounts are integers in the smallest unit (wei,
lamports, token base units), written as strings or ints; floats are refused.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from runner.sandbox.faults import FaultRule
from runner.sandbox.networks import DEFAULT_FEES, NETWORKS, is_valid_address, networks_for


def _smallest_units(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be an integer in the smallest unit (e.g. wei), not a float")
    text = str(value).strip().replace("_", "")
    if not text.isdigit():
        raise ValueError(f"{value!r} is not an integer amount in the smallest unit")
    return int(text)


Units = Annotated[int, BeforeValidator(_smallest_units)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenSpec(_Model):
    network: str
    address: str
    symbol: str = Field(min_length=1, max_length=10)
    name: str
    decimals: int = Field(ge=0, le=18)


class PolicySpec(_Model):
    """A SPENDING_LIMIT-like policy: tier by amount (native smallest units) plus a whitelist."""

    instant_max: Units | None = None
    notify_max: Units | None = None
    delay_max: Units | None = None
    delay_seconds: float = Field(default=5.0, ge=0)
    approval_timeout: float = Field(default=3600.0, gt=0)
    allowed_recipients: list[str] | None = None


class WalletSpec(_Model):
    name: str
    chain: str
    environment: str = "testnet"
    network: str | None = None  # the network reported on the ready line; default: the first
    address: str
    id: str | None = None
    owner: str | None = None  # no owner: APPROVAL is downgraded to DELAY, like the daemon
    balances: dict[str, dict[str, Units]] = Field(default_factory=dict)
    policy: PolicySpec | None = None

    @property
    def default_network(self) -> str:
        if self.network:
            return self.network
        if self.balances:
            return next(iter(self.balances))
        return networks_for(self.chain, self.environment)[0].name


class SessionSpec(_Model):
    wallets: list[str] = Field(min_length=1)
    ttl: int | None = Field(default=None, ge=300, le=31_536_000)
    max_renewals: int = Field(default=0, ge=0)
    absolute_lifetime: int = Field(default=0, ge=0)


class Timings(_Model):
    """How long each automatic step takes, in seconds of the sandbox clock."""

    pipeline_seconds: float = Field(default=0.1, ge=0)  # PENDING -> SUBMITTED / QUEUED
    execute_seconds: float = Field(default=0.2, ge=0)  # EXECUTING -> SUBMITTED
    confirm_seconds: float = Field(default=1.5, ge=0)  # SUBMITTED -> CONFIRMED
    default_delay_seconds: float = Field(default=300.0, ge=0)  # APPROVAL without an owner


class RateLimits(_Model):
    enabled: bool = True
    ip_per_minute: int = Field(default=1000, ge=1)
    session_per_minute: int = Field(default=300, ge=1)
    tx_list_per_minute: int = Field(default=10, ge=1)


class Fixture(_Model):
    version: str = "2.15.0"  # what GET /health reports
    host_guard: bool = True  # 503 SYSTEM_LOCKED unless Host is localhost, like the daemon
    wallets: list[WalletSpec] = Field(min_length=1)
    tokens: list[TokenSpec] = Field(default_factory=list)
    sessions: list[SessionSpec] = Field(min_length=1)  # the first one goes on the ready line
    fees: dict[str, Units] = Field(default_factory=dict)
    timings: Timings = Timings()
    rate_limits: RateLimits = RateLimits()
    stuck_recipients: list[str] = Field(default_factory=list)
    faults: list[FaultRule] = Field(default_factory=list)
    # Two signings of one wallet that overlap: the later one ends FAILED, as on the daemon
    # (its keystore is rewritten through one fixed temp name; nonces collide).
    signing_race: bool = True

    @model_validator(mode="after")
    def _check_references(self) -> Fixture:
        names = [wallet.name for wallet in self.wallets]
        if len(set(names)) != len(names):
            raise ValueError("wallet names must be unique")
        for token in self.tokens:
            if token.network not in NETWORKS:
                raise ValueError(f"token {token.symbol}: unknown network {token.network!r}")
        for wallet in self.wallets:
            _check_wallet(wallet, self.tokens)
        for index, session in enumerate(self.sessions):
            unknown = sorted(set(session.wallets) - set(names))
            if unknown:
                raise ValueError(f"sessions[{index}]: unknown wallet(s) {', '.join(unknown)}")
        for network in self.fees:
            if network not in NETWORKS:
                raise ValueError(f"fees: unknown network {network!r}")
        return self

    def token(self, network: str, symbol_or_address: str) -> TokenSpec | None:
        for token in self.tokens:
            if token.network == network and symbol_or_address.lower() in (
                token.symbol.lower(),
                token.address.lower(),
            ):
                return token
        return None

    def fee(self, network: str) -> int:
        return self.fees.get(network, DEFAULT_FEES[NETWORKS[network].chain])


def _check_wallet(wallet: WalletSpec, tokens: list[TokenSpec]) -> None:
    where = f"wallet {wallet.name}"
    allowed = {network.name for network in networks_for(wallet.chain, wallet.environment)}
    if not allowed:
        raise ValueError(
            f"{where}: unsupported chain/environment {wallet.chain}/{wallet.environment}"
        )
    if not is_valid_address(wallet.chain, wallet.address):
        raise ValueError(f"{where}: {wallet.address!r} is not a {wallet.chain} address")
    for network in [wallet.default_network, *wallet.balances]:
        if network not in allowed:
            raise ValueError(
                f"{where}: network {network!r} is not one of {', '.join(sorted(allowed))}"
            )
    for network, amounts in wallet.balances.items():
        symbols = {NETWORKS[network].native_symbol} | {
            t.symbol for t in tokens if t.network == network
        }
        for symbol in amounts:
            if symbol not in symbols:
                raise ValueError(
                    f"{where}: no token {symbol!r} on {network} (known: {sorted(symbols)})"
                )


def load_fixture(path: str | Path | None = None) -> Fixture:
    """Read and validate a fixture; ``None`` loads the default one shipped with the package.

    Raises ``ValueError`` naming the file and the offending field.
    """
    if path is None:
        text = resources.files("runner.sandbox").joinpath("default_fixture.yaml").read_text()
        source = "default fixture"
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"{source}: cannot read the fixture ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ValueError(f"{source}: the fixture is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    try:
        return Fixture.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'fixture'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValueError(f"{source}: {problems}") from None
