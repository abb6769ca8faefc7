"""A case's sandbox setup, checked and turned into a fixture, a start time and earlier
transfers. The same code checks a test file (located errors) and builds the sandbox, so
what `waiaas-run test` accepts is exactly what it can run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.playbook.amounts import AmountError, UnitTable, parse_amount_text
from runner.playbook.diagnostics import KeyPath, did_you_mean
from runner.sandbox.faults import FaultRule, parse_fault
from runner.sandbox.fixture import Fixture, load_fixture
from runner.sandbox.networks import NETWORKS
from runner.scenario.models import DEFAULT_CLOCK, SandboxSetup, Tiers

__all__ = ["PastTransfer", "SetupError", "World", "merge_setup", "prepare_world"]


class SetupError(ValueError):
    """A problem in a sandbox setup, at ``path`` inside the ``sandbox:`` mapping."""

    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class PastTransfer:
    """A transfer made ``age`` seconds before the run starts."""

    age: float
    wallet: str
    to: str
    raw: int
    network: str
    token: dict[str, Any] | None


@dataclass(frozen=True)
class World:
    fixture: Fixture
    start: float  # the frozen sandbox clock when the run begins (epoch seconds)
    history: list[PastTransfer]
    faults: list[FaultRule]  # switched on after the history was made
    approvals: str

    @property
    def earliest(self) -> float:
        return self.start - max((past.age for past in self.history), default=0.0)


def merge_setup(base: SandboxSetup, case: SandboxSetup) -> SandboxSetup:
    """The file's ``sandbox:`` with a case's on top: maps merge, lists add up, a case's
    own scalar wins."""
    update: dict[str, Any] = {}
    for name in case.model_fields_set:
        mine, theirs = getattr(case, name), getattr(base, name)
        if isinstance(mine, dict):
            update[name] = {**theirs, **mine}
        elif isinstance(mine, list):
            update[name] = [*theirs, *mine]
        else:
            update[name] = mine
    return base.model_copy(update=update)


class _Wallets:
    """The fixture's wallets as plain data, by the name the sandbox will report."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.tokens: list[dict[str, Any]] = data.get("tokens", [])

    def get(self, name: str, path: KeyPath) -> dict[str, Any]:
        wallet: dict[str, Any]
        for wallet in self.data["wallets"]:
            if wallet["name"] == name:
                return wallet
        names = [w["name"] for w in self.data["wallets"]]
        raise SetupError(
            path,
            f"the sandbox has no wallet {name!r}{did_you_mean(name, names)} "
            f"(its wallets: {', '.join(names)}; rename one with names:)",
        )

    def address(self, text: str, path: KeyPath) -> str:
        """A wallet name becomes its address; anything that looks like an address stays."""
        for wallet in self.data["wallets"]:
            if wallet["name"] == text:
                return str(wallet["address"])
        if text.startswith("0x") or len(text) >= 32:
            return text
        self.get(text, path)  # raises with the list of names
        return text

    def network_of(self, wallet: dict[str, Any]) -> str:
        network = wallet.get("network") or next(iter(wallet.get("balances") or {}), None)
        if network is None:
            raise SetupError((), f"wallet {wallet['name']}: the fixture gives it no network")
        return str(network)

    def amount(self, wallet: dict[str, Any], text: str, path: KeyPath) -> tuple[str, str, int]:
        """``"0.02 ETH"`` for ``wallet`` -> (network, symbol, smallest units)."""
        network = self.network_of(wallet)
        tokens = {t["symbol"]: t["decimals"] for t in self.tokens if t["network"] == network}
        try:
            amount = UnitTable(tokens).resolve(parse_amount_text(text))
        except AmountError as error:
            raise SetupError(path, str(error)) from None
        native = NETWORKS[network].native_symbol
        if amount.symbol == native:
            return network, native, amount.to_raw(NETWORKS[network].native_decimals)
        if amount.symbol not in tokens:
            raise SetupError(
                path, f"{amount.symbol} is not held on {network} (the fixture's tokens)"
            )
        return network, amount.symbol, amount.to_raw(tokens[amount.symbol])

    def token(self, network: str, symbol: str) -> dict[str, Any] | None:
        for token in self.tokens:
            if token["network"] == network and token["symbol"] == symbol:
                return {
                    "address": token["address"],
                    "decimals": token["decimals"],
                    "symbol": symbol,
                }
        return None


def prepare_world(setup: SandboxSetup, base_dir: Path) -> World:
    """Check ``setup`` and build what the sandbox starts from; raises :class:`SetupError`."""
    try:
        fixture = load_fixture(base_dir / setup.fixture if setup.fixture else None)
    except ValueError as error:
        raise SetupError(("fixture",), str(error)) from None
    data = fixture.model_dump(mode="python")
    wallets = _Wallets(data)
    _rename(data, setup.names)
    for name, written in setup.balances.items():
        wallet = wallets.get(name, ("balances", name))
        texts = [written] if isinstance(written, str) else written
        for index, text in enumerate(texts):
            where: KeyPath = (
                ("balances", name) if isinstance(written, str) else ("balances", name, index)
            )
            network, symbol, raw = wallets.amount(wallet, text, where)
            wallet.setdefault("balances", {}).setdefault(network, {})[symbol] = raw
    for name, tiers in setup.tiers.items():
        wallet = wallets.get(name, ("tiers", name))
        if tiers is None:
            wallet["policy"] = None
        else:  # the fixture's policy with the fields the case gives replaced
            wallet["policy"] = {
                **(wallet.get("policy") or {}),
                **_policy(wallets, wallet, tiers, name),
            }
    data["stuck_recipients"] = [
        *data.get("stuck_recipients", []),
        *(
            wallets.address(text, ("stuck_recipients", index))
            for index, text in enumerate(setup.stuck_recipients)
        ),
    ]
    faults = []
    for index, spec in enumerate(setup.faults):
        try:
            faults.append(parse_fault(spec))
        except ValueError as error:
            raise SetupError(("faults", index), _first_line(error)) from None
    data["rate_limits"] = {**data.get("rate_limits", {}), "enabled": setup.rate_limits}
    try:
        checked = Fixture.model_validate(data)
    except ValueError as error:
        raise SetupError(
            (), f"the sandbox setup is not a valid fixture: {_first_line(error)}"
        ) from None
    history = [
        _past(wallets, past.from_, past.to, past.amount, past.age.total_seconds(), index)
        for index, past in enumerate(setup.history)
    ]
    return World(checked, _start(setup.clock), history, faults, setup.approvals)


def _rename(data: dict[str, Any], names: dict[str, str]) -> None:
    wallets = _Wallets(data)
    for old, new in names.items():
        wallets.get(old, ("names", old))["name"] = new
    for session in data.get("sessions", []):
        session["wallets"] = [names.get(name, name) for name in session["wallets"]]


def _policy(wallets: _Wallets, wallet: dict[str, Any], tiers: Tiers, name: str) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    for field in ("instant_max", "notify_max", "delay_max"):
        text = getattr(tiers, field)
        if text is not None:
            network, symbol, raw = wallets.amount(wallet, text, ("tiers", name, field))
            if symbol != NETWORKS[network].native_symbol:
                raise SetupError(("tiers", name, field), f"tiers are in {network}'s native coin")
            policy[field] = raw
    if tiers.delay_seconds is not None:
        policy["delay_seconds"] = tiers.delay_seconds.total_seconds()
    if tiers.approval_timeout is not None:
        policy["approval_timeout"] = tiers.approval_timeout.total_seconds()
    if tiers.allowed_recipients is not None:
        policy["allowed_recipients"] = [
            wallets.address(text, ("tiers", name, "allowed_recipients", index))
            for index, text in enumerate(tiers.allowed_recipients)
        ]
    return policy


def _past(
    wallets: _Wallets, sender: str, to: str, text: str, age: float, index: int
) -> PastTransfer:
    where: KeyPath = ("history", index)
    wallet = wallets.get(sender, (*where, "from"))
    network, symbol, raw = wallets.amount(wallet, text, (*where, "amount"))
    return PastTransfer(
        age=age,
        wallet=sender,
        to=wallets.address(to, (*where, "to")),
        raw=raw,
        network=network,
        token=wallets.token(network, symbol),
    )


def _start(text: str | None) -> float:
    written = text or DEFAULT_CLOCK
    try:
        moment = datetime.fromisoformat(written)
    except ValueError:
        raise SetupError(
            ("clock",), f"{written!r} is not an ISO 8601 time such as {DEFAULT_CLOCK!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _first_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'fixture'}: {e['msg']}" for e in error.errors()
        )
    return str(error).splitlines()[0] if str(error) else type(error).__name__
