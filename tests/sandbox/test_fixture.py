"""The fixture file: the shipped default, and clear located errors for bad edits."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from runner.sandbox import Sandbox, load_fixture
from runner.sandbox.networks import format_units

MINIMAL = """
wallets:
  - name: ops
    chain: ethereum
    address: "0x66fa9f9d3186b9c13a66b004fc8bb5f3359c4deb"
    balances: {{ethereum-sepolia: {{ETH: {amount}}}}}
sessions: [{{wallets: [ops]}}]
"""


def test_default_fixture() -> None:
    fixture = load_fixture()
    assert [w.name for w in fixture.wallets] == ["treasury", "agent", "solana-ops"]
    assert fixture.sessions[0].wallets == ["treasury", "agent"]
    treasury = fixture.wallets[0]
    assert treasury.policy is not None and treasury.policy.instant_max == 10**16
    assert fixture.token("ethereum-sepolia", "USDC") is not None
    assert fixture.fee("ethereum-sepolia") == 42_000_000_000_000


def test_a_minimal_fixture_file(tmp_path: Path) -> None:
    path = tmp_path / "fixture.yaml"
    path.write_text(MINIMAL.format(amount='"1_000_000"'))
    fixture = load_fixture(path)
    assert fixture.wallets[0].balances == {"ethereum-sepolia": {"ETH": 1_000_000}}
    assert fixture.wallets[0].default_network == "ethereum-sepolia"
    assert fixture.rate_limits.enabled is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.format(amount="0.5"), "not a float"),
        (MINIMAL.format(amount='"1.5"'), "not an integer amount"),
        (MINIMAL.format(amount="1").replace("ETH:", "DOGE:"), "no token 'DOGE'"),
        (MINIMAL.format(amount="1").replace("ethereum-sepolia", "solana-devnet"), "not one of"),
        (MINIMAL.format(amount="1").replace("[ops]}", "[nobody]}"), "unknown wallet(s) nobody"),
        ("wallets: [", "not valid YAML"),
    ],
)
def test_bad_fixtures_are_refused_with_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fixture.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as caught:
        load_fixture(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


@pytest.mark.parametrize(
    ("amount", "decimals", "text"),
    [(0, 18, "0"), (10**18, 18, "1"), (1, 18, "0.000000000000000001"), (12_500_000, 6, "12.5")],
)
def test_format_units_like_the_daemon(amount: int, decimals: int, text: str) -> None:
    assert format_units(amount, decimals) == text


async def test_faults_and_stuck_recipients_from_the_fixture(tmp_path: Path) -> None:
    path = tmp_path / "fixture.yaml"
    path.write_text(
        MINIMAL.format(amount="1")
        + "faults:\n  - {method: GET, path: /health, status: 503, times: 1}\n"
        + "stuck_recipients: ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8']\n"
    )
    async with Sandbox(port=0, fixture=path) as sandbox, httpx.AsyncClient() as client:
        codes = [(await client.get(f"{sandbox.url}/health")).status_code for _ in range(2)]
        assert codes == [503, 200]
        assert sandbox.core.lifecycle.stuck_recipients == {
            "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
        }
