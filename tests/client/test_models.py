from __future__ import annotations

from decimal import Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from runner.client import (
    AllBalances,
    ConnectInfo,
    PolicyTier,
    Simulation,
    TokenSpec,
    Transaction,
    TransactionStatus,
    WalletAssets,
    WalletBalance,
    to_token_units,
)
from tests.client import recorded


def test_balance_keeps_exact_amounts() -> None:
    balance = WalletBalance.model_validate(recorded.BALANCE)
    assert balance.raw == 99998962920267177000
    assert balance.amount == Decimal("99.998962920267177")
    assert isinstance(balance.amount, Decimal)
    assert balance.balance_formatted == "99.998962920267177"
    assert balance.chain_id == "eip155:11155111"


def test_all_balances_inline_errors() -> None:
    balances = AllBalances.model_validate(recorded.ALL_BALANCES)
    ok, failed = balances.balances
    assert ok.amount == Decimal("99.3958027451611566")
    assert failed.amount is None
    assert failed.error is not None and "Failed to get balance" in failed.error


def test_assets_native_entry() -> None:
    assets = WalletAssets.model_validate(recorded.ASSETS)
    (ether,) = assets.assets
    assert ether.is_native and ether.mint == "native"
    assert ether.amount == Decimal(100)


def test_transaction_fields_and_terminal_status() -> None:
    tx = Transaction.model_validate(recorded.TRANSACTION)
    assert tx.status is TransactionStatus.CONFIRMED and tx.status.terminal
    assert tx.tier is PolicyTier.INSTANT
    assert tx.raw_amount == 10**15
    assert tx.to_address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    assert tx.created_at == 1795625575
    assert tx.amount_formatted == "0.001"


def test_unknown_future_status_and_tier_survive() -> None:
    tx = Transaction.model_validate({**recorded.TRANSACTION, "status": "REPLACED", "tier": "X"})
    assert tx.status == "REPLACED"
    assert not tx.status.known
    assert not tx.status.terminal
    assert tx.tier == "X" and not tx.tier.known  # type: ignore[union-attr]
    assert TransactionStatus.QUEUED.known


@pytest.mark.parametrize("status", ["CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"])
def test_send_terminal_statuses(status: str) -> None:
    assert TransactionStatus(status).terminal


@pytest.mark.parametrize("status", ["PENDING", "QUEUED", "EXECUTING", "SUBMITTED", "GAS_WAITING"])
def test_non_terminal_statuses(status: str) -> None:
    assert not TransactionStatus(status).terminal


def test_legacy_agent_id_is_wallet_id() -> None:
    tx = Transaction.model_validate({"id": "t", "status": "PENDING", "agentId": "w-1"})
    assert tx.wallet_id == "w-1"


def test_extra_fields_are_kept_and_snake_case_accepted() -> None:
    balance = WalletBalance.model_validate({**recorded.BALANCE, "futureField": 7})
    assert balance.model_extra == {"futureField": 7}
    snake = WalletBalance(
        wallet_id="w", chain="ethereum", network="n", balance="5", decimals=0, symbol="X"
    )
    assert snake.raw == 5


@pytest.mark.parametrize("bad", [1.5, True, "1.5", "abc", "1e3"])
def test_amounts_must_be_integer_strings(bad: object) -> None:
    with pytest.raises(ValidationError, match="integer string"):
        WalletBalance.model_validate({**recorded.BALANCE, "balance": bad})


def test_integer_amount_is_accepted_as_exact_string() -> None:
    balance = WalletBalance.model_validate({**recorded.BALANCE, "balance": 10**30})
    assert balance.balance == "1" + "0" * 30


def test_to_token_units_is_exact() -> None:
    assert to_token_units(1, 18) == Decimal("0.000000000000000001")
    assert to_token_units("123456789", 6) == Decimal("123.456789")
    assert to_token_units(10**40 + 1, 18) == Decimal("10000000000000000000000.000000000000000001")


def test_to_token_units_reads_naturally() -> None:
    assert str(to_token_units(10**19, 18)) == "10"
    assert str(to_token_units(15 * 10**17, 18)) == "1.5"
    assert str(to_token_units(0, 18)) == "0"
    assert str(to_token_units(-5, 2)) == "-0.05"


def test_connect_info_wallet_lookup() -> None:
    info = ConnectInfo.model_validate(recorded.CONNECT_INFO)
    wallet = info.wallet_named("treasury")
    assert wallet is not None and wallet.available_networks[0] == "ethereum-sepolia"
    assert info.wallet_named("nope") is None
    assert info.session.expires_at == 0


def test_simulation_tier() -> None:
    sim = Simulation.model_validate(recorded.SIMULATION)
    assert sim.tier is PolicyTier.DELAY
    assert sim.balance_changes[0]["afterBalance"] == "99930000000000000000"


def test_token_spec_needs_identity() -> None:
    with pytest.raises(ValidationError, match="address, decimals and symbol"):
        TokenSpec(symbol="USDC")
    assert TokenSpec(asset_id="eip155:1/erc20:0xa0b8").asset_id
    with pytest.raises(ValidationError):
        TokenSpec(address="0x1", decimals=19, symbol="X")


@given(raw=st.integers(min_value=-(10**60), max_value=10**60), decimals=st.integers(0, 36))
def test_to_token_units_round_trips_exactly(raw: int, decimals: int) -> None:
    value = to_token_units(raw, decimals)
    wide = Context(prec=200)
    assert value.scaleb(decimals, wide) == raw
    assert "E" not in format(value, "f")
