"""What a case's runs did, compared with what the case expects, as a readable diff.

Sends are read from the sandbox itself (every transaction created during the runs), not
from the runner's own report, so a send the runner did not mean to make shows up too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from runner.client import TransactionStatus
from runner.playbook.amounts import Amount, AmountError, UnitTable, parse_amount_text
from runner.playbook.diagnostics import mask_secrets
from runner.playbook.values import format_value
from runner.sandbox.networks import NETWORKS
from runner.sandbox.server import Sandbox
from runner.scenario.adapter import PlaybookRun, StepResult
from runner.scenario.models import Expect, ExpectedSend, ExpectedStep

__all__ = ["ObservedSend", "Verdict", "judge", "observe_sends", "values_match"]

E = TypeVar("E")
A = TypeVar("A")

STATUSES = tuple(status.value for status in TransactionStatus)
# webhook fields holding prose: a case names a part of the text, not all of it
_PROSE = {"message", "summary", "reason", "error"}


@dataclass(frozen=True)
class ObservedSend:
    wallet: str  # the sending wallet's name
    to: str  # a sandbox wallet's name, else the address
    amount: Amount
    status: str
    tx_id: str

    def line(self) -> str:
        return f"{self.wallet} -> {self.to}  {self.amount}  ({self.status})"


def observe_sends(sandbox: Sandbox, before: set[str]) -> list[ObservedSend]:
    """Every transaction the sandbox holds that was not there before the run, oldest first."""
    core = sandbox.core
    core.lifecycle.advance()
    names = {w.id: w.name for w in core.wallets.values()}
    by_address = {w.address.lower(): w.name for w in core.wallets.values()}
    observed = []
    for tx in reversed(core.store.txs_with_status(None, STATUSES)):
        if tx.id in before:
            continue
        if tx.token_symbol is not None and tx.token_decimals is not None:
            symbol, decimals = tx.token_symbol, tx.token_decimals
        else:
            network = NETWORKS[tx.network]
            symbol, decimals = network.native_symbol, network.native_decimals
        amount = Amount(Decimal(int(tx.amount)).scaleb(-decimals), symbol)
        to = by_address.get(tx.to_address.lower(), tx.to_address)
        observed.append(
            ObservedSend(names.get(tx.wallet_id, tx.wallet_id), to, amount, tx.status, tx.id)
        )
    return observed


@dataclass
class Verdict:
    """A case's differences; no lines means it passed."""

    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.lines


def _amount(text: str, units: UnitTable) -> Amount | None:
    try:
        return units.resolve(parse_amount_text(text))
    except AmountError:
        return None


def values_match(expected: Any, actual: Any, units: UnitTable, *, prose: bool = False) -> bool:
    """``expected`` as written in a test file against a step output or a webhook field."""
    if isinstance(actual, int) and not isinstance(actual, bool):
        actual = Decimal(actual)
    if expected is None or isinstance(expected, bool):
        return actual is expected
    if isinstance(expected, Decimal):
        try:
            return not isinstance(actual, bool) and Decimal(str(actual)) == expected
        except (InvalidOperation, ValueError):
            return False
    if isinstance(expected, str):
        wanted = _amount(expected, units)
        if isinstance(actual, str):
            got = _amount(actual, units)
            if wanted is not None and got is not None:
                return wanted == got
        if isinstance(actual, Amount):
            return wanted is not None and wanted == actual
        text = format_value(actual)
        return expected in text if prose else expected == text
    if isinstance(expected, list):
        return (
            isinstance(actual, Sequence)
            and not isinstance(actual, str)
            and len(actual) == len(expected)
            and all(values_match(e, a, units) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return isinstance(actual, Mapping) and all(
            key in actual and values_match(value, actual[key], units, prose=key in _PROSE)
            for key, value in expected.items()
        )
    return False


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal | Amount | bool) or value is None:
        return format_value(value) or "null"
    return format_value(value)


def _send_matches(
    expected: ExpectedSend, actual: ObservedSend, units: UnitTable, wallets: Mapping[str, str]
) -> bool:
    to = wallets.get(expected.to.lower(), expected.to)
    return (
        expected.from_ == actual.wallet
        and to.lower() == actual.to.lower()
        and _amount(expected.amount, units) == actual.amount
        and (expected.status is None or expected.status == actual.status)
    )


def _expected_line(expected: ExpectedSend, units: UnitTable) -> str:
    amount = _amount(expected.amount, units)
    status = f"  ({expected.status})" if expected.status else ""
    return f"{expected.from_} -> {expected.to}  {amount or expected.amount}{status}"


def _paired_rows(
    expected: Sequence[E],
    actual: Sequence[A],
    matches: Callable[[E, A], bool],
    expected_line: Callable[[E], str],
    actual_line: Callable[[A], str],
) -> list[str]:
    """Each expected item takes a different actual one that matches it, in any order: the
    rows of the difference (``-`` expected but missing, ``+`` present but not expected,
    unmarked when paired), or no rows when the two pair up exactly."""
    unmatched = list(actual)
    rows: list[str] = []
    missing = False
    for wanted in expected:
        found = next((item for item in unmatched if matches(wanted, item)), None)
        if found is None:
            rows.append(f"- {expected_line(wanted)}")
            missing = True
        else:
            unmatched.remove(found)
            rows.append(f"  {actual_line(found)}")
    if not missing and not unmatched:
        return []
    return rows + [f"+ {actual_line(extra)}" for extra in unmatched]


def _diff_sends(
    expect: Expect, actual: list[ObservedSend], units: UnitTable, wallets: Mapping[str, str]
) -> list[str]:
    rows = _paired_rows(
        expect.sends,
        actual,
        lambda expected, found: _send_matches(expected, found, units, wallets),
        lambda expected: _expected_line(expected, units),
        ObservedSend.line,
    )
    heading = "sends (- expected but not made, + made but not expected):"
    return [heading, *(f"  {row}" for row in rows)] if rows else []


def _diff_steps(expect: Expect, steps: Sequence[StepResult], units: UnitTable) -> list[str]:
    by_id = {step.step_id: step for step in steps}
    rows: list[str] = []
    for step_id, wanted in expect.steps.items():
        spec = wanted if isinstance(wanted, ExpectedStep) else ExpectedStep(status=wanted)
        actual = by_id.get(step_id)
        if actual is None:
            rows.append(f"{step_id}: expected {spec.status or 'to run'}, but it never ran")
            continue
        why = f" ({actual.reason})" if actual.reason else ""
        if spec.status is not None and spec.status != actual.status.value:
            rows.append(f"{step_id}: expected {spec.status}, got {actual.status.value}{why}")
        if spec.reason is not None and spec.reason not in (actual.reason or ""):
            rows.append(f"{step_id}: reason should contain {spec.reason!r}, got {actual.reason!r}")
        for name, value in spec.outputs.items():
            got = actual.values.get(name)
            if not values_match(value, got, units):
                rows.append(f"{step_id}.{name}: expected {_shown(value)}, got {_shown(got)}")
    return ["steps:", *(f"  {r}" for r in rows)] if rows else []


def _diff_webhook(expect: Expect, events: list[dict[str, Any]], units: UnitTable) -> list[str]:
    """Each expected event matches a different received one, in any order, and nothing
    else was received (the order of events of one run is not part of their meaning)."""
    if expect.webhook is None:
        return []
    rows = _paired_rows(
        expect.webhook, events, lambda wanted, got: values_match(wanted, got, units), _brief, _brief
    )
    heading = "webhook events (- expected but not received, + received but not expected):"
    return [heading, *(f"  {row}" for row in rows)] if rows else []


def _brief(event: Mapping[str, Any]) -> str:
    keys = [k for k in ("event", "step", "amount", "to", "message", "exit_code") if k in event]
    quiet = ("playbook", "run_id", "summary", "skipped")
    keys += [k for k in event if k not in keys and k not in quiet]
    return ", ".join(f"{k}={_shown(event[k])}" for k in keys[:6])


def judge(
    expect: Expect,
    runs: Sequence[PlaybookRun],
    sends: list[ObservedSend],
    events: list[dict[str, Any]],
    units: UnitTable,
    wallets: Mapping[str, str],
) -> Verdict:
    """``wallets`` maps lower-case addresses to sandbox wallet names."""
    last = runs[-1]
    lines = _diff_sends(expect, sends, units, wallets)
    lines += _diff_steps(expect, last.steps, units)
    if expect.exit_code is not None and expect.exit_code != last.exit_code:
        lines.append(f"exit code: expected {expect.exit_code}, got {last.exit_code}")
    lines += _diff_webhook(expect, events, units)
    if lines:
        lines += _transcript(last)
    return Verdict([mask_secrets(line) for line in lines])  # a token never reaches a report


def _transcript(run: PlaybookRun) -> list[str]:
    """What the (last) run did, step by step, to read next to the differences."""
    if run.result is None:
        return ["the run did not start:", f"  {run.refused}"]
    rows = ["the run:"]
    for step in run.steps:
        detail = step.reason or "  ".join(
            f"{k}={_shown(v)}"
            for k, v in step.values.items()
            if k in ("amount", "sent", "status", "count", "passed", "reached") and v is not None
        )
        rows.append(f"  {step.status.value:8} {step.step_id}  {detail}".rstrip())
    rows += [f"  {level}: {message}" for level, message in run.logs if level != "info"]
    rows.append(f"  {run.result.summary()}")
    return rows
