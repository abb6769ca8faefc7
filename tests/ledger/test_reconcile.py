from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.client import RetryPolicy, TransferRequest, WAIaaSClient
from runner.ledger import Ledger, SendIntent, Verdict, reconcile
from tests.client.conftest import TOKEN

REQUEST = {"type": "TRANSFER", "to": "0xAbC", "amount": "500", "network": "ethereum-sepolia"}


def tx(tx_id: str, created: int, **overrides: Any) -> dict[str, Any]:
    base = {
        "id": tx_id,
        "walletId": "w-1",
        "type": "TRANSFER",
        "status": "PENDING",
        "network": "ethereum-sepolia",
        "toAddress": "0xabc",
        "amount": "500",
        "createdAt": created,
    }
    return {**base, **overrides}


@pytest.fixture
def intent(tmp_path: Path) -> SendIntent:
    ledger = Ledger(tmp_path / "l.sqlite3", clock=lambda: 1_000.0)
    return ledger.intend_send(
        key="k",
        run_id="r",
        playbook="p",
        step_id="s",
        request=TransferRequest.from_body({**REQUEST, "walletId": "w-1"}, "ETH"),
    )


async def _no_sleep(seconds: float) -> None:
    return None


def client_answering(body: Any, status: int = 200) -> tuple[WAIaaSClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    policy = RetryPolicy(sleep=_no_sleep, max_retries=0)
    return WAIaaSClient("http://d.test", TOKEN, http_client=http, retry_policy=policy), seen


Page = Callable[..., dict[str, Any]]


def page(*items: dict[str, Any], has_more: bool = False) -> dict[str, Any]:
    return {"items": list(items), "cursor": None, "hasMore": has_more}


async def test_one_match_is_adopted(intent: SendIntent) -> None:
    client, seen = client_answering(page(tx("t2", 1_001), tx("t1", 900, amount="500")))
    result = await reconcile(client, intent, claimed=set())
    assert result.verdict is Verdict.FOUND and result.transaction is not None
    assert result.transaction.id == "t2"
    assert len(seen) == 1 and seen[0].url.params["walletId"] == "w-1"


async def test_claimed_and_mismatching_transactions_are_skipped(intent: SendIntent) -> None:
    client, _ = client_answering(
        page(
            tx("t5", 1_002, amount="501"),
            tx("t4", 1_002, toAddress="0xdef"),
            tx("t3", 1_002, network="polygon-amoy"),
            tx("t2", 1_001, type="TOKEN_TRANSFER"),
            tx("t1", 1_001),
        )
    )
    result = await reconcile(client, intent, claimed={"t1"})
    assert result.verdict is Verdict.ABSENT


async def test_nothing_matching_is_absent(intent: SendIntent) -> None:
    client, _ = client_answering(page())
    assert (await reconcile(client, intent, claimed=set())).verdict is Verdict.ABSENT


async def test_two_matches_are_undecidable(intent: SendIntent) -> None:
    client, _ = client_answering(page(tx("t2", 1_001), tx("t1", 1_000)))
    result = await reconcile(client, intent, claimed=set())
    assert result.verdict is Verdict.UNDECIDABLE and "t2, t1" in result.reason


async def test_a_full_page_that_does_not_reach_back_is_undecidable(intent: SendIntent) -> None:
    client, _ = client_answering(page(tx("t9", 1_005, amount="1"), has_more=True))
    result = await reconcile(client, intent, claimed=set())
    assert result.verdict is Verdict.UNDECIDABLE and "does not reach back" in result.reason


async def test_a_page_reaching_past_the_intent_is_conclusive(intent: SendIntent) -> None:
    client, _ = client_answering(
        page(tx("t9", 1_005, amount="1"), tx("t0", 100, amount="1"), has_more=True)
    )
    assert (await reconcile(client, intent, claimed=set())).verdict is Verdict.ABSENT


async def test_an_unreadable_list_is_undecidable(intent: SendIntent) -> None:
    client, _ = client_answering(
        {"code": "RATE_LIMITED", "message": "Transaction rate limit exceeded", "retryable": True},
        status=429,
    )
    result = await reconcile(client, intent, claimed=set())
    assert result.verdict is Verdict.UNDECIDABLE and "RATE_LIMITED" in result.reason
