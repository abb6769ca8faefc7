"""Validation adds static sends toward ``max_per_run`` per network, as the engine counts
them (issue #19 part 2): ETH on ethereum-sepolia and ETH on ethereum-mainnet are two
assets; sends on one network still add up."""

from __future__ import annotations

import pytest

from runner.playbook import load_playbook_text
from runner.playbook.diagnostics import PlaybookError

HEAD = """\
version: 1
name: two-networks
daemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}", wallet: test}
wallets:
  test: {name: test, network: ethereum-sepolia}
  main: {name: main, network: ethereum-mainnet}
  other: {name: other, network: ethereum-sepolia}
limits: {max_per_run: "0.5 ETH"}
steps:
"""


def test_one_symbol_on_two_networks_is_not_added() -> None:
    text = HEAD + (
        '  - send: {from: test, to: other, amount: "0.3 ETH"}\n'
        '  - send: {from: main, to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", '
        'amount: "0.3 ETH"}\n'
    )
    assert load_playbook_text(text, "p.yaml").name == "two-networks"


@pytest.mark.parametrize(
    "second",
    [
        '  - send: {from: other, to: test, amount: "0.3 ETH"}\n',  # the same network
        # a network known only at run time counts with every network
        '  - send: {from: main, to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", '
        'amount: "0.3 ETH", network: "${{ env.NET }}"}\n',
    ],
)
def test_sends_on_one_network_or_an_unknown_one_add_up(second: str) -> None:
    text = HEAD + ('  - send: {from: test, to: other, amount: "0.3 ETH"}\n' + second)
    text = text.replace("version: 1\n", "version: 1\nenv: {NET: ethereum-sepolia}\n", 1)
    with pytest.raises(PlaybookError) as caught:
        load_playbook_text(text, "p.yaml")
    assert "sends in this run add up to 0.6 ETH, over limits.max_per_run (0.5 ETH)" in str(
        caught.value
    )
