"""The function table of expressions: each entry's type rule (load time) and body (run time)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, Inexact, localcontext
from typing import Protocol

from runner.playbook.amounts import Amount, AmountError, UnitTable, parse_amount_text
from runner.playbook.durations import DurationError, parse_duration, seconds_of
from runner.playbook.exprtypes import (
    NUMBER,
    STRING,
    TIME,
    ExprType,
    ExprTypeError,
    a,
    amount_of,
    compare_type,
    unify,
)
from runner.playbook.values import Value, type_of

__all__ = ["FUNCTIONS", "NOT_CONSTANT", "Function", "FunctionEnv"]

NOT_CONSTANT = object()  # stands for an argument whose value is only known at run time


class FunctionEnv(Protocol):
    @property
    def units(self) -> UnitTable: ...

    def now(self) -> datetime: ...


Signature = Callable[[Sequence[ExprType], Sequence[object], UnitTable], ExprType]
Body = Callable[[Sequence[Value], FunctionEnv], Value]


@dataclass(frozen=True)
class Function:
    usage: str
    summary: str
    signature: Signature
    body: Body


def _arity(args: Sequence[ExprType], low: int, high: int | None, usage: str) -> None:
    if len(args) < low or (high is not None and len(args) > high):
        raise ExprTypeError(f"wrong number of arguments: {usage}")


def _needs(arg: ExprType, kinds: tuple[str, ...], usage: str) -> None:
    if arg.kind != "any" and arg.kind not in kinds:
        raise ExprTypeError(f"{usage} needs {' or '.join(kinds)}, not {a(arg)}")


def _extreme_signature(usage: str) -> Signature:
    def signature(args: Sequence[ExprType], _consts: Sequence[object], _u: UnitTable) -> ExprType:
        _arity(args, 2, None, usage)
        result = args[0]
        for arg in args[1:]:
            compare_type("<", result, arg)
            result = unify(result, arg, "compare")
        return result

    return signature


def _key(value: Value) -> Decimal | str | datetime:
    if isinstance(value, Amount):
        return value.value
    assert isinstance(value, Decimal | str | datetime)
    return value


def _min(args: Sequence[Value], env: FunctionEnv) -> Value:
    _extreme_signature("min(a, b, ...)")([type_of(a) for a in args], [], env.units)
    return min(args, key=_key)


def _max(args: Sequence[Value], env: FunctionEnv) -> Value:
    _extreme_signature("max(a, b, ...)")([type_of(a) for a in args], [], env.units)
    return max(args, key=_key)


def _len_signature(args: Sequence[ExprType], _c: Sequence[object], _u: UnitTable) -> ExprType:
    _arity(args, 1, 1, "len(list or string)")
    _needs(args[0], ("list", "string"), "len()")
    return NUMBER


def _len(args: Sequence[Value], env: FunctionEnv) -> Value:
    _len_signature([type_of(args[0])], [], env.units)
    assert isinstance(args[0], str | Sequence)
    return Decimal(len(args[0]))


def _abs_signature(args: Sequence[ExprType], _c: Sequence[object], _u: UnitTable) -> ExprType:
    _arity(args, 1, 1, "abs(number or amount)")
    _needs(args[0], ("number", "amount"), "abs()")
    return args[0]


def _abs(args: Sequence[Value], env: FunctionEnv) -> Value:
    _abs_signature([type_of(args[0])], [], env.units)
    value = args[0]
    if isinstance(value, Amount):
        return Amount(abs(value.value), value.symbol)
    assert isinstance(value, Decimal)
    return abs(value)


def _now_signature(args: Sequence[ExprType], _c: Sequence[object], _u: UnitTable) -> ExprType:
    _arity(args, 0, 0, "now()")
    return TIME


def _amount_signature(
    args: Sequence[ExprType], consts: Sequence[object], units: UnitTable
) -> ExprType:
    usage = 'amount("0.05 ETH") or amount(number, "ETH")'
    _arity(args, 1, 2, usage)
    unit_text = consts[-1]
    if not isinstance(unit_text, str):
        raise ExprTypeError(f"{usage}: the unit must be written in the expression as a string")
    try:
        if len(args) == 1:
            return amount_of(units.resolve(parse_amount_text(unit_text)).symbol)
        _needs(args[0], ("number",), "amount(number, unit)")
        return amount_of(units.unit(unit_text).symbol)
    except AmountError as error:
        raise ExprTypeError(str(error)) from None


def _amount(args: Sequence[Value], env: FunctionEnv) -> Value:
    if len(args) == 1:
        assert isinstance(args[0], str)
        return env.units.resolve(parse_amount_text(args[0]))
    number, unit_name = args
    if not isinstance(number, Decimal) or not isinstance(unit_name, str):
        raise ExprTypeError('amount(number, "ETH") needs a number and a unit')
    unit = env.units.unit(unit_name)
    amount = Amount(number.scaleb(unit.exponent - unit.decimals), unit.symbol)
    amount.check_range(unit.decimals)  # amount(1e99, "ETH") cannot exist on any chain
    return amount


def _amount_arg(usage: str) -> Signature:
    def signature(args: Sequence[ExprType], _c: Sequence[object], _u: UnitTable) -> ExprType:
        _arity(args, 1, 1, usage)
        _needs(args[0], ("amount",), usage)
        return {"units": NUMBER, "raw": NUMBER, "symbol": STRING}.get(usage.split("(")[0], args[0])

    return signature


def _the_amount(args: Sequence[Value], usage: str) -> Amount:
    if not isinstance(args[0], Amount):
        raise ExprTypeError(f"{usage} needs an amount, not {a(type_of(args[0]))}")
    return args[0]


def _round_down(args: Sequence[Value], env: FunctionEnv) -> Value:
    value = _the_amount(args, "round_down()")
    step = Decimal(1).scaleb(-env.units.decimals(value.symbol))
    with localcontext() as context:
        context.traps[Inexact] = False  # rounding down is this function's whole purpose
        return Amount(value.value.quantize(step, rounding=ROUND_DOWN), value.symbol)


def _seconds_signature(
    args: Sequence[ExprType], consts: Sequence[object], _u: UnitTable
) -> ExprType:
    _arity(args, 1, 1, 'seconds("30m")')
    if not isinstance(consts[0], str):
        raise ExprTypeError('seconds("30m") needs the duration written as a string')
    try:
        parse_duration(consts[0])
    except DurationError as error:
        raise ExprTypeError(str(error)) from None
    return NUMBER


def _seconds(args: Sequence[Value], _env: FunctionEnv) -> Value:
    assert isinstance(args[0], str)
    return seconds_of(parse_duration(args[0]))


FUNCTIONS: dict[str, Function] = {
    "min": Function(
        "min(a, b, ...)",
        "smallest of numbers, amounts (same token), strings or times",
        _extreme_signature("min(a, b, ...)"),
        _min,
    ),
    "max": Function(
        "max(a, b, ...)",
        "largest of numbers, amounts (same token), strings or times",
        _extreme_signature("max(a, b, ...)"),
        _max,
    ),
    "len": Function("len(x)", "length of a list or string", _len_signature, _len),
    "abs": Function("abs(x)", "absolute value of a number or amount", _abs_signature, _abs),
    "now": Function(
        "now()", "the current time (UTC)", _now_signature, lambda _args, env: env.now()
    ),
    "amount": Function(
        'amount("0.05 ETH") / amount(n, "ETH")',
        "an amount from text or number + unit",
        _amount_signature,
        _amount,
    ),
    "units": Function(
        "units(a)",
        "an amount as a number of token units (0.05 for 0.05 ETH)",
        _amount_arg("units(amount)"),
        lambda args, _env: _the_amount(args, "units()").value,
    ),
    "raw": Function(
        "raw(a)",
        "an amount in the smallest unit (wei, lamports, ...), exact",
        _amount_arg("raw(amount)"),
        lambda args, env: Decimal(
            _the_amount(args, "raw()").to_raw(env.units.decimals(_the_amount(args, "raw()").symbol))
        ),
    ),
    "symbol": Function(
        "symbol(a)",
        "the token symbol of an amount",
        _amount_arg("symbol(amount)"),
        lambda args, _env: _the_amount(args, "symbol()").symbol,
    ),
    "round_down": Function(
        "round_down(a)",
        "an amount cut down to whole smallest units",
        _amount_arg("round_down(amount)"),
        _round_down,
    ),
    "seconds": Function(
        'seconds("30m")', "a duration as a number of seconds", _seconds_signature, _seconds
    ),
}
