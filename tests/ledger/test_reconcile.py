from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from runner.client import RetryPolicy, Transaction, TransferRequest, WAIaaSClient
from runner.ledger import Ledger, SendIntent, Verdict, reconcile
from runner.ledger.reconcile import created_within
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


def intended(path: Path, at: float) -> SendIntent:
    """The intent of REQUEST, committed at ``at`` (epoch seconds)."""
    ledger = Ledger(path, clock=lambda: at)
    return ledger.intend_send(
        key="k",
        run_id="r",
        playbook="p",
        step_id="s",
        request=TransferRequest.from_body({**REQUEST, "walletId": "w-1"}, "ETH"),
    )


@pytest.fixture
def intent(tmp_path: Path) -> SendIntent:
    return intended(tmp_path / "l.sqlite3", 1_000.0)


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


# -- the window starts at the intent --------------------------------------------------

INTENDED_AT = 1_795_625_575.250  # when the intent was committed (runner clock = daemon clock)


def uuid7_at(seconds: float, tail: int = 1) -> str:
    """A UUIDv7 as the daemon makes it: its first 48 bits are the creation time in ms."""
    value = (int(seconds * 1000) << 80) | (0x7 << 76) | (0b10 << 62) | tail
    return str(uuid.UUID(int=value))


def made_at(seconds: float, tail: int = 1, **overrides: Any) -> dict[str, Any]:
    return tx(uuid7_at(seconds, tail), int(seconds), **overrides)


@pytest.fixture
def timed_intent(tmp_path: Path) -> SendIntent:
    return intended(tmp_path / "t.sqlite3", INTENDED_AT)


OLDER = made_at(INTENDED_AT - 3600, tail=9, amount="1")  # the list reaches back past the intent


@pytest.mark.parametrize("before", [5.0, 29.0, 2.5])
async def test_another_clients_identical_transfer_before_the_intent_is_never_adopted(
    timed_intent: SendIntent, before: float
) -> None:
    theirs = made_at(INTENDED_AT - before)
    client, _ = client_answering(page(theirs, OLDER, has_more=True))
    result = await reconcile(client, timed_intent, claimed=set())
    assert result.verdict is Verdict.ABSENT  # ours is provably not there; theirs is not ours


@pytest.mark.parametrize("before", [5.0, 29.0])
async def test_ours_is_found_beside_an_earlier_identical_transfer(
    timed_intent: SendIntent, before: float
) -> None:
    ours = made_at(INTENDED_AT + 0.004, tail=2)
    theirs = made_at(INTENDED_AT - before)
    client, _ = client_answering(page(ours, theirs, OLDER))
    result = await reconcile(client, timed_intent, claimed=set())
    assert result.verdict is Verdict.FOUND and result.transaction is not None
    assert result.transaction.id == ours["id"]


@pytest.mark.parametrize("before", [0.5, 0.001, 1.9])
async def test_an_identical_transfer_near_the_boundary_needs_a_person(
    timed_intent: SendIntent, before: float
) -> None:
    theirs = made_at(INTENDED_AT - before)
    for items in ([theirs, OLDER], [made_at(INTENDED_AT + 0.01, tail=2), theirs, OLDER]):
        client, _ = client_answering(page(*items))
        result = await reconcile(client, timed_intent, claimed=set())
        assert result.verdict is Verdict.UNDECIDABLE, items
        assert theirs["id"] in result.reason and "another client" in result.reason


async def test_whole_seconds_straddling_the_intent_need_a_person(timed_intent: SendIntent) -> None:
    # no UUIDv7 to tell the millisecond: created "in the intent's second" may be before it
    same_second = tx("not-a-uuid", int(INTENDED_AT))
    client, _ = client_answering(page(same_second, OLDER))
    result = await reconcile(client, timed_intent, claimed=set())
    assert result.verdict is Verdict.UNDECIDABLE


async def test_whole_seconds_after_the_intent_are_found(timed_intent: SendIntent) -> None:
    client, _ = client_answering(page(tx("not-a-uuid", int(INTENDED_AT) + 1), OLDER))
    assert (await reconcile(client, timed_intent, claimed=set())).verdict is Verdict.FOUND


async def test_an_id_disagreeing_with_created_at_is_not_trusted(timed_intent: SendIntent) -> None:
    # the id claims "after the intent", createdAt says 10 s before: the seconds decide
    odd = tx(uuid7_at(INTENDED_AT + 0.5), int(INTENDED_AT) - 10)
    client, _ = client_answering(page(odd, OLDER))
    assert (await reconcile(client, timed_intent, claimed=set())).verdict is Verdict.ABSENT


async def test_a_claimed_transfer_near_the_boundary_is_someone_we_know(
    timed_intent: SendIntent,
) -> None:
    ours_earlier = made_at(INTENDED_AT - 0.3)  # an earlier send of this ledger, same fields
    client, _ = client_answering(page(ours_earlier, OLDER))
    result = await reconcile(client, timed_intent, claimed={ours_earlier["id"]})
    assert result.verdict is Verdict.ABSENT


def test_creation_time_from_a_uuid7() -> None:
    transaction = Transaction.model_validate(made_at(INTENDED_AT))
    earliest, latest = created_within(transaction) or (0.0, 0.0)
    assert earliest == pytest.approx(INTENDED_AT, abs=0.001)
    assert latest - earliest == pytest.approx(0.001, abs=1e-6)
    assert created_within(Transaction.model_validate(tx("x", 5))) == (5.0, 6.0)
    assert created_within(Transaction.model_validate({**tx("x", 5), "createdAt": None})) is None
