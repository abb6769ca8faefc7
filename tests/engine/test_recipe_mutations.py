"""The mutation corpus, at run time: mistakes in the shipped playbooks that only a run can
see — the environment (a wallet name the daemon does not have, two aliases that name one
wallet, the token's variable unset), ``--var`` values that are not the amount the var is,
limits met by computed amounts or by sends with a condition.

Each shipped playbook runs against an in-process sandbox through ``launch`` (what the CLI
runs) once per mutation: the run ends with a recorded failure (exit 1, the run's end in
the ledger) or is refused before it starts (exit 2), and the sandbox holds no new
transaction. The mutations are generated from the shipped files
(``tests/playbook/mutations.py``).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from runner.engine.launch import LaunchOptions, launch
from runner.errors import RunnerError, exit_code_of
from runner.ledger import Ledger
from runner.playbook import load_playbook
from runner.sandbox import Sandbox
from tests.engine.conftest import Collector
from tests.playbook.mutations import RunMutation, run_mutations, shipped_playbooks

SHIPPED = shipped_playbooks()


async def _run(mutation: RunMutation, sandbox: Sandbox, tmp_path: Path) -> tuple[int, str]:
    """The exit code and what the run said (the failed steps' reasons, or the error)."""
    tmp_path.mkdir()
    path = tmp_path / mutation.source.name
    path.write_text(mutation.text or mutation.source.read_text(encoding="utf-8"), "utf-8")
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    environ |= {name: sandbox.token for name in ("WAIAAS_SESSION_TOKEN", "OPS_SESSION_TOKEN")}
    environ |= {n: sandbox.token for n in ("WATCHER_SESSION_TOKEN", "TREASURY_SESSION_TOKEN")}
    for name, value in mutation.env:
        environ.pop(name, None) if value is None else environ.update({name: value})
    options = LaunchOptions(
        daemon_url=sandbox.url,
        state=tmp_path / "ledger.sqlite3",
        environ=environ,
        variables=dict(mutation.variables),
        request_timeout=5,
    )
    try:
        playbook = load_playbook(path)
        result = await asyncio.wait_for(launch(playbook, path, "run", options, Collector()), 30)
    except RunnerError as error:
        return int(exit_code_of(error)), str(error)
    reasons = "; ".join(f"{s.step_id}: {s.reason}" for s in result.steps if s.reason)
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        recorded = ledger.run(result.run_id)
    assert recorded is not None and recorded.exit_code == int(result.exit_code), mutation.id
    return int(result.exit_code), reasons


def test_the_run_corpus_has_each_kind_of_mutation() -> None:
    rules = {m.rule for source in SHIPPED for m in run_mutations(source)}
    assert {
        "token-env-unset",
        "unknown-wallet-env",
        "sender-is-recipient",
        "bad-var",
        "computed-over-max_per_send",
        "conditional-sends-over-count",
    } <= rules


@pytest.mark.parametrize("source", SHIPPED, ids=lambda path: path.name)
async def test_every_run_mutation_fails_and_sends_nothing(
    source: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    started = time.monotonic()
    failures = []
    for index, mutation in enumerate(run_mutations(source)):
        before = sandbox.transaction_count()
        code, said = await _run(mutation, sandbox, tmp_path / str(index))
        sent = sandbox.transaction_count() - before
        if code != mutation.exit_code or sent:
            failures.append(f"{mutation.id}: exit {code}, {sent} sent: {said}")
    assert not failures, "\n".join(failures)
    assert time.monotonic() - started < 10
