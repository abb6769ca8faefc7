"""One send is one :class:`TransferRequest`: the ledger row and the HTTP body of a send
come from the same value (issue 9)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from runner.client import TokenSpec, TransferRequest
from runner.errors import ExitCode
from runner.ledger import Ledger
from tests.exactly_once.conftest import STRANGER, Harness, RequestHook


async def test_the_ledger_row_and_the_posted_body_are_the_same_request(
    harness: Harness,
) -> None:
    posted: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> None:
        posted.append(json.loads(request.content))

    harness.hooks.append(RequestHook("POST", "/v1/transactions/send", record, times=5))
    result, _ = await harness.run(
        f"""
        tokens:
          USDC: {{ network: ethereum-sepolia, decimals: 6,
                  address: "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238" }}
        steps:
          - id: eth
            send: {{ from: treasury, to: agent, amount: "0.001 ETH", memo: "top-up" }}
          - id: usdc
            send: {{ from: treasury, to: "{STRANGER}", amount: "1.5 USDC" }}
        """
    )
    assert result.exit_code is ExitCode.OK, [s.reason for s in result.steps]
    intents = harness.sends()
    assert len(posted) == len(intents) == 2
    for body, intent in zip(posted, intents, strict=True):
        assert body == intent.request  # the recorded body is the posted body
        assert intent.transfer.body() == body
        assert (intent.to_address, str(intent.amount_raw)) == (body["to"], body["amount"])
        assert (intent.network, intent.wallet_id) == (body["network"], body["walletId"])
    assert posted[0]["memo"] == "top-up" and posted[0]["type"] == "TRANSFER"
    assert posted[1]["type"] == "TOKEN_TRANSFER" and posted[1]["amount"] == "1500000"
    assert intents[1].symbol == "USDC"


def test_a_request_survives_the_ledger_unchanged(tmp_path: Any) -> None:
    request = TransferRequest(
        "0xabc",
        10**30,
        token=TokenSpec(address="0xdef", decimals=6, symbol="USDC"),
        memo="m",
        network="ethereum-sepolia",
        wallet_id="w-1",
        symbol="USDC",
    )
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        intent = ledger.intend_send(
            key="p/r/s", run_id="r", playbook="p", step_id="s", request=request
        )
    assert intent.transfer == request
    assert intent.request == request.body()
    assert intent.amount_raw == 10**30 and intent.symbol == "USDC"
