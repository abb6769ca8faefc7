"""Field types shared by the playbook and step models: amounts, templates, conditions,
durations, networks. Each turns YAML input into a checked value or a clear error (and
describes itself in the JSON Schema); none accepts a float where money is meant.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from runner.playbook.addresses import ADDRESS
from runner.playbook.amounts import (
    AMOUNT_TEXT_PATTERN,
    NATIVE_SYMBOLS,
    AmountError,
    AmountLiteral,
    RawAmount,
    parse_amount_text,
)
from runner.playbook.diagnostics import describe_type, did_you_mean
from runner.playbook.durations import DurationError, parse_duration
from runner.playbook.expressions import Expression, ExpressionError, Template
from runner.playbook.exprtypes import STRING, ExprType, amount_of

__all__ = [
    "ADDRESS",
    "AMOUNT_SCHEMA",
    "IDENTIFIER_PATTERN",
    "AmountValue",
    "Condition",
    "Duration",
    "FormatVersion",
    "Identifier",
    "Model",
    "NetworkName",
    "OptionalCondition",
    "PollInterval",
    "StaticAmount",
    "TemplateText",
    "TextValue",
    "Timeout",
    "exactly_one",
]


class Model(BaseModel):
    """Strict: unknown keys are errors, and YAML values are never coerced ("5" is not 5)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=False, defer_build=True
    )


def exactly_one(model: BaseModel, first: str, second: str, *, kind: str, subject: str) -> None:
    """Refuse ``model`` unless exactly one of the keys ``first`` and ``second`` is given."""
    if (getattr(model, first) is None) == (getattr(model, second) is None):
        raise PydanticCustomError(kind, f"{subject} needs exactly one of {first}: and {second}:")


_TEMPLATE_SCHEMA: dict[str, Any] = {"type": "string", "pattern": r"\$\{\{.*\}\}"}


def _error(kind: str, message: str, offset: int | None = None) -> PydanticCustomError:
    return PydanticCustomError(kind, message, {"offset": offset} if offset is not None else None)


def _template(value: object, expect: ExprType | None = None) -> Template:
    if not isinstance(value, str):
        raise _error("string_type", f"expected text, got {describe_type(value)}")
    try:
        return Template.parse(value, expect)
    except ExpressionError as error:
        raise _error("expression", error.message, error.offset) from None


def _amount(value: object, *, allow_template: bool) -> AmountLiteral | RawAmount | Template:
    if isinstance(value, float):
        written = getattr(value, "source", repr(value))
        raise _error(
            "float_amount",
            f"amount {written} is a YAML number; amounts need a unit and quotes, "
            f'e.g. "{written} ETH"',
        )
    if isinstance(value, bool) or value is None:
        raise _error(
            "amount_type", f'expected an amount like "0.05 ETH", got {describe_type(value)}'
        )
    if isinstance(value, int):
        raise _error(
            "int_amount",
            f'amount {value} has no unit: write "{value} ETH", "{value} wei" '
            f"or {{raw: {value}, token: ETH}}",
        )
    if isinstance(value, dict):
        return _raw_amount(value)
    if not isinstance(value, str):
        raise _error(
            "amount_type", f'expected an amount like "0.05 ETH", got {describe_type(value)}'
        )
    if "${{" in value:
        if not allow_template:
            raise _error("static_amount", "limits must be written as amounts, not expressions")
        return _template(value, amount_of(None))
    try:
        return parse_amount_text(value)
    except AmountError as error:
        raise _error("amount", str(error)) from None


def _raw_amount(value: dict[Any, Any]) -> RawAmount:
    unknown = sorted(set(value) - {"raw", "token"})
    if unknown or set(value) != {"raw", "token"}:
        raise _error(
            "raw_amount", "a smallest-unit amount is written {raw: <whole number>, token: <symbol>}"
        )
    raw, token = value["raw"], value["token"]
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise _error("raw_amount", "raw: must be a whole number of smallest units (0 or more)")
    if not isinstance(token, str):
        raise _error("raw_amount", "token: must be a token symbol such as ETH or USDC")
    return RawAmount(raw, token)


AMOUNT_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "string",
            "pattern": AMOUNT_TEXT_PATTERN,
            "description": 'an amount with its unit, e.g. "0.05 ETH", "1500 wei", "250 USDC"',
        },
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["raw", "token"],
            "properties": {"raw": {"type": "integer", "minimum": 0}, "token": {"type": "string"}},
            "description": "an explicit smallest-unit integer",
        },
    ]
}

AmountValue = Annotated[
    AmountLiteral | RawAmount | Template,
    PlainValidator(lambda value: _amount(value, allow_template=True)),
    WithJsonSchema({"anyOf": [*AMOUNT_SCHEMA["anyOf"], _TEMPLATE_SCHEMA]}),
]
StaticAmount = Annotated[
    AmountLiteral | RawAmount,
    PlainValidator(lambda value: _amount(value, allow_template=False)),
    WithJsonSchema(AMOUNT_SCHEMA),
]
# free text: placeholders of any type are formatted into it (messages, memos)
TemplateText = Annotated[Template, PlainValidator(_template), WithJsonSchema({"type": "string"})]
# a single text value (an address, an id, a URL): a whole placeholder must give text
TextValue = Annotated[
    Template,
    PlainValidator(lambda value: _template(value, STRING)),
    WithJsonSchema({"type": "string"}),
]


def _condition(value: object) -> Expression:
    if value is None or (isinstance(value, str) and not value.strip()):
        # `if:` with nothing after it must not quietly mean "always": say so
        raise _error(
            "condition_empty",
            "empty condition: write an expression (e.g. steps.agent.amount < vars.floor), "
            "true or false",
        )
    if isinstance(value, bool):
        return Expression.parse("true" if value else "false")
    if not isinstance(value, str):
        raise _error("condition_type", f"expected an expression, got {describe_type(value)}")
    text = value.strip()
    lead = len(value) - len(value.lstrip())
    if text.startswith("${{") and text.endswith("}}"):
        text, lead = text[3:-2], lead + 3  # tolerated: conditions are expressions already
    try:
        parsed = Expression.parse(text)
    except ExpressionError as error:
        raise _error("expression", error.message, lead + error.offset) from None
    return parsed


_CONDITION_SCHEMA = WithJsonSchema(
    {
        "type": ["string", "boolean"],
        "minLength": 1,
        "description": "an expression, e.g. steps.agent.amount < vars.floor",
    }
)
Condition = Annotated[Expression, PlainValidator(_condition), _CONDITION_SCHEMA]
# an optional condition (`if:`): absent means none, but a key written without a value is an
# error (a plain `Condition | None` would take the null as "absent" and run unconditionally)
OptionalCondition = Annotated[Expression | None, PlainValidator(_condition), _CONDITION_SCHEMA]


def _format_version(value: object) -> int:
    # exactly the whole number 1: not true (== 1 in Python), not 1.0 or 1.0000000000000001
    if type(value) is not int or value != 1:
        if isinstance(value, bool):
            written = "true" if value else "false"
        elif isinstance(value, str | int):
            written = repr(value)
        else:
            written = getattr(value, "source", None) or describe_type(value)
        raise _error("version", f"expected 1 (the whole number), got {written}")
    return value


FormatVersion = Annotated[
    int, PlainValidator(_format_version), WithJsonSchema({"const": 1, "type": "integer"})
]


def _duration(value: object) -> timedelta:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise _error(
            "duration", f'duration {value} has no unit: write e.g. "{value}s" or "{value}m"'
        )
    if not isinstance(value, str):
        raise _error("duration", f'expected a duration like "30s", got {describe_type(value)}')
    try:
        return parse_duration(value)
    except DurationError as error:
        raise _error("duration", str(error)) from None


_DURATION_SCHEMA = {
    "type": "string",
    "pattern": r"^([0-9]+(ms|d|h|m|s))+$",
    "examples": ["30s", "15m", "1h30m"],
}
Duration = Annotated[timedelta, PlainValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]


def _at_least(least: timedelta, why: str) -> Any:
    def check(value: object) -> timedelta:
        duration = _duration(value)
        if duration < least:
            raise _error(
                "duration", f"{value} is too short: at least {least.total_seconds():g}s ({why})"
            )
        return duration

    return PlainValidator(check)


Timeout = Annotated[
    timedelta,
    _at_least(timedelta(milliseconds=1), "a deadline of no time at all can only fail"),
    WithJsonSchema(_DURATION_SCHEMA),
]
PollInterval = Annotated[
    timedelta,
    _at_least(timedelta(milliseconds=1), "polls with no pause would spend the daemon's rate limit"),
    WithJsonSchema(_DURATION_SCHEMA),
]


def _network(value: object) -> Template:
    template = _template(value)
    if template.is_static and template.source not in NATIVE_SYMBOLS:
        hint = did_you_mean(template.source, NATIVE_SYMBOLS)
        raise _error("network", f"unknown network {template.source!r}{hint}")
    return template


NetworkName = Annotated[
    Template,
    PlainValidator(_network),
    WithJsonSchema({"anyOf": [{"enum": sorted(NATIVE_SYMBOLS)}, _TEMPLATE_SCHEMA]}),
]

IDENTIFIER_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
Identifier = Annotated[
    str,
    Field(
        pattern=IDENTIFIER_PATTERN,
        max_length=64,
        description="letters, digits and _, starting with a letter (usable as steps.<id>)",
    ),
]
