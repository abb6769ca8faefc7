"""`--resume` after a run stopped half-way: what it sent stays sent, and counts.

A run that stopped (a step failed, the token expired) is continued with the same run id, so
the same send keys: nothing it already sent may be posted again, a send that provably
never happened is posted once, and per-run limits cover both attempts together.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx
import pytest

from runner.engine.results import ExitCode
from runner.errors import UsageError
from runner.ledger import SendState
from tests.exactly_once.conftest import NAME, Harness, RequestHook, playbook_text, reason

PLAYBOOK = """\
steps:
  - id: fund
    send: { from: treasury, to: agent, amount: "0.001 ETH" }
  - id: settle
    wait: { transaction: "${{ steps.fund.id }}", until: CONFIRMED, timeout: 30s,
            interval: 20ms }
"""


@pytest.mark.parametrize(
    ("target", "sent_before"),
    [(("POST", "/v1/transactions/send"), 0), (("GET", "/v1/transactions/*"), 1)],
    ids=["on-send", "on-wait"],
)
async def test_token_expiry_then_resume_with_a_new_token_sends_once(
    harness: Harness, target: tuple[str, str], sent_before: int
) -> None:
    _, harness.token = harness.sandbox.create_session(ttl=3600)
    sandbox = harness.sandbox

    def expire(request: httpx.Request) -> None:
        sandbox.advance(3601)  # the session's TTL runs out right before this call

    harness.hooks.append(RequestHook(*target, expire))
    path = harness.write(PLAYBOOK)
    first, _ = await harness.run_file(path)
    assert first.exit_code is ExitCode.FAILED
    assert harness.tx_count() == sent_before

    harness.token = None  # a person puts a fresh token in place
    resumed, _ = await harness.run_file(path, resume=True)

    assert resumed.exit_code is ExitCode.OK, [(s.step_id, s.reason) for s in resumed.steps]
    assert resumed.run_id == first.run_id
    assert harness.tx_count() == 1
    [send] = harness.sends()
    assert send.state is SendState.ACCEPTED and [send.tx_id] == harness.tx_ids()


LIMITED = """\
limits: {limit}
vars: {{ first: "0.001 ETH", second: "0.001 ETH", go: true }}
steps:
  - id: send1
    send: {{ from: treasury, to: agent, amount: "${{{{ vars.first }}}}" }}
  - id: backlog
    pending: {{ wallet: treasury }}
  - id: send2
    if: vars.go  # a condition: the engine counts it (validate refuses an unconditional one)
    send: {{ from: treasury, to: agent, amount: "${{{{ vars.second }}}}" }}
"""


# Regression: the per-run counters started from zero on --resume, so a resumed run could
# send past max_per_run / max_sends_per_run (found by this suite at 1b13770).
@pytest.mark.parametrize(
    ("limit", "says"),
    [
        ('{ max_per_run: "0.01 ETH" }', "limit max_per_run"),
        ("{ max_sends_per_run: 1 }", "limit max_sends_per_run"),
    ],
    ids=["max_per_run", "max_sends_per_run"],
)
async def test_per_run_limits_count_the_sends_of_the_earlier_attempt(
    harness: Harness, limit: str, says: str
) -> None:
    path = harness.write(LIMITED.format(limit=limit))
    amounts = {"first": "0.006 ETH", "second": "0.006 ETH"}
    # the run stops between the two sends (the backlog read fails once)
    harness.sandbox.add_fault("GET /v1/transactions/pending status=500 times=1")
    first, _ = await harness.run_file(path, variables=amounts)
    assert first.exit_code is ExitCode.FAILED
    assert harness.tx_count() == 1

    resumed, _ = await harness.run_file(path, resume=True, variables=amounts)

    # one run may send 0.01 ETH / 1 transaction: send2 must be refused, as it is when
    # the run is not interrupted (test_limits.py)
    assert harness.tx_count() == 1
    assert resumed.exit_code is ExitCode.FAILED
    assert says in reason(resumed, "send2")


async def _crash(harness: Harness, body: str, name: str, failpoint: str) -> None:
    """A real `waiaas-run run` of ``name`` (written to ``<tmp>/<name>.yaml``) against the
    in-process sandbox, SIGKILLed at ``failpoint``: its send is left interrupted."""
    path = harness.tmp_path / f"{name}.yaml"
    path.write_text(playbook_text(body, name), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAIAAS_")}
    env |= {
        "WAIAAS_SESSION_TOKEN": harness.sandbox.token,
        "WAIAAS_RUNNER_FAILPOINT": failpoint,
        "XDG_CONFIG_HOME": str(harness.tmp_path / "config"),
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "runner", "run", "--daemon-url", harness.sandbox.url),
        *("--state", str(harness.state), str(path)),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await process.wait() == -signal.SIGKILL
    assert [s.state for s in harness.sends(name)] == [SendState.INTENDED]


# Regression: the interrupted send was reconciled outside the wallet lock and adopted the
# other playbook's transaction; the other send then crashed on the ledger's unique tx id
# (found by this suite at 1b13770).
async def test_resume_does_not_adopt_another_playbooks_send_in_flight(harness: Harness) -> None:
    """Playbook ``crashed`` died after committing its intent (nothing was posted). While
    its resume reconciles, playbook ``other`` is posting the same transfer from the same
    wallet; its transaction exists but its answer has not arrived. Two keys, two sends."""
    send_only = PLAYBOOK.split("  - id: settle")[0]
    await _crash(harness, send_only, "crashed", "after-intent")
    crashed = harness.tmp_path / "crashed.yaml"
    other = harness.write(send_only, "other")
    harness.sandbox.add_fault("POST /v1/transactions/send hold=0.5 times=1")

    posting = asyncio.create_task(harness.run_file(other))
    while harness.tx_count() == 0:  # other's transaction exists, its answer is held
        await asyncio.sleep(0.005)
    resuming = asyncio.create_task(harness.run_file(crashed, resume=True, request_timeout=1.0))
    outcomes = await asyncio.gather(posting, resuming, return_exceptions=True)

    assert [type(o).__name__ for o in outcomes] == ["tuple", "tuple"], outcomes
    for result, _ in outcomes:  # type: ignore[misc]
        assert result.exit_code is ExitCode.OK
    assert harness.tx_count() == 2
    sends = harness.sends("other") + harness.sends("crashed")
    assert [s.state for s in sends] == [SendState.ACCEPTED] * 2
    assert {s.tx_id for s in sends} == set(harness.tx_ids())


# Regression: max_per_day counted the interrupted send against itself and refused it with
# "nothing was sent", even when the daemon held it (found by this suite at 1b13770).
@pytest.mark.parametrize("instant", ["after-intent", "after-answer"])
async def test_max_per_day_does_not_count_the_resumed_send_twice(
    harness: Harness, instant: str
) -> None:
    """0.006 ETH of a 0.01 ETH day: the interrupted send itself must not make it 0.012."""
    body = 'limits: { max_per_day: "0.01 ETH" }\n' + PLAYBOOK.split("  - id: settle")[0]
    body = body.replace("0.001 ETH", "0.006 ETH")
    await _crash(harness, body, NAME, instant)
    created = harness.tx_count()
    assert created == (1 if instant == "after-answer" else 0)

    resumed, _ = await harness.run_file(
        harness.tmp_path / f"{NAME}.yaml", resume=True, request_timeout=1.0
    )

    assert resumed.exit_code is ExitCode.OK, reason(resumed, "fund")
    assert harness.tx_count() == 1
    [send] = harness.sends()
    assert send.state is SendState.ACCEPTED and [send.tx_id] == harness.tx_ids()


UNNAMED = """
steps:
  - send: { from: treasury, to: agent, amount: "0.001 ETH" }
  - assert: "false"
"""


async def test_an_unnamed_send_keeps_its_key_when_a_step_is_added_above(
    harness: Harness,
) -> None:
    path = harness.write(UNNAMED)
    first, _ = await harness.run_file(path)
    assert first.exit_code is ExitCode.FAILED and harness.tx_count() == 1
    # the reviewer's edit: a step above the send, and the failing check fixed
    path.write_text(
        path.read_text()
        .replace("steps:\n", "steps:\n  - log: added later\n")
        .replace('assert: "false"', 'assert: "true"')
    )
    resumed, _ = await harness.run_file(path, resume=True)
    assert resumed.exit_code is ExitCode.OK
    assert harness.tx_count() == 1  # the send was recognised, not posted again
    [send] = harness.sends()
    assert send.state is SendState.ACCEPTED


async def test_resume_refuses_a_playbook_whose_send_changed(harness: Harness) -> None:
    path = harness.write(UNNAMED)
    first, _ = await harness.run_file(path)
    assert first.exit_code is ExitCode.FAILED
    path.write_text(path.read_text().replace('"0.001 ETH"', '"0.002 ETH"'))
    with pytest.raises(UsageError, match="no longer has"):
        await harness.run_file(path, resume=True)
    assert harness.tx_count() == 1
