"""Scenario test files (``<name>.test.yaml``): the models, and what their values mean.

A test file names a playbook and lists cases. Each case sets up an in-process sandbox
(starting balances, policy tiers, stuck recipients, faults, transactions made earlier, the
clock), gives the run its vars and env, and says what must come out: the sends (and no
others), step outcomes and outputs, the exit code, webhook events.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from runner.playbook.fields import Duration
from runner.playbook.loader import SourceFloat
from runner.playbook.steps.wait import Status

__all__ = [
    "Case",
    "Expect",
    "ExpectedSend",
    "ExpectedStep",
    "HistoryTx",
    "SandboxSetup",
    "ScenarioFile",
    "StepOutcome",
    "Tiers",
    "expected_value",
]

StepOutcome = Literal["ok", "skipped", "failed", "unknown"]
DEFAULT_CLOCK = "2026-01-05T09:00:00Z"  # a Monday morning; cases that care set their own


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def expected_value(value: object) -> Any:
    """A value written in a test file, numbers exact (from their source text, never floats)."""
    if isinstance(value, SourceFloat):
        try:
            return Decimal(value.source.replace("_", ""))
        except InvalidOperation:
            raise PydanticCustomError(
                "number", f"{value.source} is not a plain decimal number"
            ) from None
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, list):
        return [expected_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): expected_value(item) for key, item in value.items()}
    if value is None or isinstance(value, str | bool | Decimal):
        return value
    raise PydanticCustomError("value", "expected text, a number, true/false, null, a list or a map")


Expected = Annotated[
    Any,
    PlainValidator(expected_value),
    WithJsonSchema({"description": "text, number, true/false, null, list or mapping"}),
]
AmountText = Annotated[
    str,
    Field(
        pattern=r"^\s*[0-9][0-9_]*(\.[0-9][0-9_]*)?\s+\S+\s*$",
        description='an amount with its unit, e.g. "0.2 ETH", "1500 wei", "250 USDC"',
    ),
]
Amounts = Annotated[
    AmountText | list[AmountText],
    Field(description='one amount with its unit or a list: ["0.02 ETH", "0 USDC"]'),
]


class Tiers(_Model):
    """The wallet's spending-limit policy, native amounts with their unit. Fields left out
    keep the fixture's values."""

    instant_max: AmountText | None = None
    notify_max: AmountText | None = None
    delay_max: AmountText | None = Field(None, description="above it: APPROVAL")
    delay_seconds: Duration | None = Field(None, description='how long DELAY holds, e.g. "5s"')
    approval_timeout: Duration | None = Field(None, description="an unanswered approval EXPIRES")
    allowed_recipients: list[str] | None = Field(
        None, description="addresses or sandbox wallet names; others are CANCELLED by policy"
    )


class HistoryTx(_Model):
    """A transfer made before the run (by someone else), ``age`` ago."""

    from_: str = Field(alias="from", description="sandbox wallet name")
    to: str = Field(description="sandbox wallet name or address")
    amount: AmountText
    age: Duration = Field(description='how long ago it was sent, e.g. "2h"')


class SandboxSetup(_Model):
    """How the case's sandbox starts (on top of the fixture)."""

    fixture: str | None = Field(
        None, description="fixture file, relative to the test file (default: the shipped one)"
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description="rename fixture wallets to the names your playbook uses: {agent: agent-7}",
    )
    balances: dict[str, Amounts] = Field(
        default_factory=dict, description='wallet name -> starting balances: {agent: "0.01 ETH"}'
    )
    tiers: dict[str, Tiers | None] = Field(
        default_factory=dict,
        description="wallet name -> policy tiers (null: no policy, all INSTANT)",
    )
    stuck_recipients: list[str] = Field(
        default_factory=list, description="sends to these (addresses or wallets) stay SUBMITTED"
    )
    faults: list[str] = Field(
        default_factory=list,
        description='fault specs, e.g. "POST /v1/transactions/send status=503 times=1"',
    )
    history: list[HistoryTx] = Field(
        default_factory=list, description="transfers made before the run"
    )
    clock: str | None = Field(
        None, description=f"the frozen time the run starts at (ISO 8601; default {DEFAULT_CLOCK})"
    )
    approvals: Literal["approve", "reject", "leave"] = Field(
        "leave", description="what the wallet owner does with APPROVAL-tier sends of the run"
    )
    rate_limits: bool = True


class ExpectedSend(_Model):
    from_: str = Field(alias="from", description="sandbox wallet name")
    to: str = Field(description="sandbox wallet name or address")
    amount: AmountText
    status: Status | None = Field(None, description="its status when the run ended, e.g. CONFIRMED")


class ExpectedStep(_Model):
    status: StepOutcome | None = None
    outputs: dict[str, Expected] = Field(
        default_factory=dict, description="output -> value (amounts as text with their unit)"
    )
    reason: str | None = Field(None, description="text the step's reason contains")


class Expect(_Model):
    exit_code: int | None = Field(None, ge=0, le=3)
    sends: list[ExpectedSend] = Field(
        default_factory=list,
        description="every send the run makes, in any order; none when left out",
    )
    steps: dict[str, StepOutcome | ExpectedStep] = Field(default_factory=dict)
    webhook: list[dict[str, Expected]] | None = Field(
        None, description="every event posted to the test's webhook receiver, in any order"
    )


class Case(_Model):
    name: str = Field(min_length=1)
    sandbox: SandboxSetup = SandboxSetup()
    env: dict[str, str] = Field(default_factory=dict)
    vars: dict[str, str] = Field(default_factory=dict, description="like --var NAME=VALUE")
    webhook_env: list[str] = Field(
        default_factory=list, description="env variables set to the test's webhook receiver URL"
    )
    run_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,127}$",  # as --run-id (runner.ledger.keys)
        description="like --run-id (send keys include it)",
    )
    runs: int = Field(1, ge=1, le=10, description="run the playbook this many times in a row")
    expect: Expect = Expect()


class ScenarioFile(_Model):
    """A scenario test file, format version 1."""

    playbook: str | None = Field(
        None, description="the playbook, relative to this file (default: <name>.yaml)"
    )
    env: dict[str, str] = Field(default_factory=dict, description="for every case")
    webhook_env: list[str] = Field(default_factory=list, description="for every case")
    sandbox: SandboxSetup = Field(SandboxSetup(), description="for every case (a case adds to it)")
    cases: list[Case] = Field(min_length=1)
