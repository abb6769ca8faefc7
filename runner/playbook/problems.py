"""Pydantic validation errors -> located, actionable diagnostics.

Pydantic reports a location tuple per error (with union tags mixed in); it is mapped back
to the key path of the YAML data and so to a line and column. Messages are rewritten to
name the key and say what to write, with "did you mean" for unknown keys and a hint when
YAML 1.1 read an unquoted value as something else (``no`` -> false, ``1:30`` -> 90).
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from runner.playbook.diagnostics import Diagnostic, KeyPath, describe_type, did_you_mean
from runner.playbook.fields import IDENTIFIER_PATTERN
from runner.playbook.loader import SourceMap
from runner.playbook.models import ENV_NAME_PATTERN
from runner.playbook.steps import STEP_KINDS, StepModel, kind_of

__all__ = ["diagnostics_from_validation", "keys_around"]

_EXPECTED = {
    "string_type": "text",
    "bool_type": "true or false",
    "int_type": "a whole number",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "null",
}
_PATTERNS = {
    IDENTIFIER_PATTERN: "use letters, digits and _, starting with a letter",
    ENV_NAME_PATTERN: "use upper-case letters, digits and _",
}
# their messages already say how to write the value
_HINTED = {"float_amount", "int_amount", "var_number", "condition_empty", "version"}
_YAML_READS = {"bool": "a boolean", "int": "a number", "float": "a number", "null": "null"}


def diagnostics_from_validation(
    error: ValidationError, data: Any, source: SourceMap, root: type[BaseModel]
) -> list[Diagnostic]:
    return [_diagnostic(detail, data, source, root) for detail in error.errors()]


def _key_path(loc: tuple[int | str, ...], data: Any) -> KeyPath:
    """Follows ``loc`` through the data, dropping entries that are union tags, not keys.

    Only the last entry may name a key that is absent (a missing required key).
    """
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if _has(current, part):
            current = _child(current, part)
        elif index == len(loc) - 1 and isinstance(current, dict):
            current = None
        else:
            continue
        path.append(part)
    return tuple(path)


def _model_at(path: KeyPath, data: Any, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``path`` (for "did you mean")."""
    annotation: Any = root
    current = data
    for part in path:
        model = _as_model(annotation, current)
        if model is not None:
            field = next(
                (f for name, f in model.model_fields.items() if (f.alias or name) == part), None
            )
            if field is None:
                return None
            annotation = field.annotation
        else:
            args = get_args(_strip(annotation))
            if not args:
                return None
            annotation = args[-1]  # list[item] / dict[key, value]
        current = _child(current, part)
    return _as_model(annotation, current)


def _has(container: Any, part: str | int) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _child(container: Any, part: str | int) -> Any:
    return container[part] if _has(container, part) else None


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _as_model(annotation: Any, value: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        members = [_as_model(member, value) for member in get_args(annotation)]
        models = [m for m in members if m is not None]
        if any(issubclass(m, StepModel) for m in models):
            kind = kind_of(value)
            return STEP_KINDS.get(kind) if kind else None
        return models[0] if models else None
    return None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def keys_around(path: KeyPath, data: Any, root: type[BaseModel]) -> set[str]:
    """The format's keys a line near the value at ``path`` could mean and that are not
    written: those of the mapping holding it, of its step (when it is in one) and of the
    top level."""
    keys = set(_keys_of(root)) - set(data if isinstance(data, dict) else ())
    model = _model_at(path[:-1], data, root)
    holder = _child_at(path[:-1], data)
    if model is not None:
        keys |= set(_keys_of(model)) - set(holder if isinstance(holder, dict) else ())
    if path[:1] == ("steps",) and len(path) > 2:
        step = _child_at(path[:2], data)
        keys |= {*_keys_of(StepModel), *STEP_KINDS} - set(step if isinstance(step, dict) else ())
    return keys


def _child_at(path: KeyPath, data: Any) -> Any:
    current = data
    for part in path:
        if not _has(current, part):
            return None
        current = _child(current, part)
    return current


def _diagnostic(
    detail: ErrorDetails, data: Any, source: SourceMap, root: type[BaseModel]
) -> Diagnostic:
    kind = detail["type"]
    path = _key_path(detail["loc"], data)
    value = detail.get("input")
    context = detail.get("ctx") or {}
    if kind == "missing":
        return source.diagnostic(path, f"missing required key {path[-1]!r}", at_key=True)
    if kind == "extra_forbidden":
        key = str(path[-1])
        if key in STEP_KINDS:
            return source.diagnostic(
                path, f"a step has exactly one kind; {key!r} is a second one", at_key=True
            )
        model = _model_at(path[:-1], data, root)
        hint = did_you_mean(key, _keys_of(model)) if model else ""
        return source.diagnostic(path, f"unknown key {key!r}{hint}", at_key=True)
    if kind == "step_kind":
        problem, mistyped = _step_kind_problem(value)
        if mistyped is not None:  # at the mistyped key, not at the step's first line
            where = source.position((*path, mistyped), at_key=True)
            return Diagnostic(source.file, where.line, where.column, path, problem)
        return source.diagnostic(path, problem)
    if kind in _EXPECTED:
        hint = _yaml_hint(source, path, value, always=True)
        message = f"expected {_EXPECTED[kind]}, got {describe_type(value)}{hint}"
        return source.diagnostic(path, message)
    if kind in ("literal_error", "enum"):
        expected = context.get("expected", "")
        got = (
            repr(value)
            if isinstance(value, str | int) and not isinstance(value, bool)
            else describe_type(value)
        )
        hint = _yaml_hint(source, path, value, always=True)
        return source.diagnostic(path, f"expected {expected}, got {got}{hint}")
    if kind == "string_pattern_mismatch":
        pattern = str(context.get("pattern"))
        rule = _PATTERNS.get(pattern, f"must match {pattern}")
        is_key = detail["loc"][-1] == "[key]"  # a mapping key (a var or env name) is wrong
        what = "name" if is_key else "value"
        return source.diagnostic(path, f"invalid {what} {value!r}: {rule}", at_key=is_key)
    if kind == "too_short" and path == ("steps",):
        return source.diagnostic(path, "a playbook needs at least one step")
    offset = context.get("offset")
    message = detail["msg"]
    message = (
        message[0].lower() + message[1:]
        if message[:1].isupper() and message[1:2].islower()
        else message
    )
    if kind not in _HINTED:
        message += _yaml_hint(source, path, value, always=False)
    return source.diagnostic(path, message, offset=offset if isinstance(offset, int) else None)


def _step_kind_problem(value: Any) -> tuple[str, str | None]:
    """The message, and the key it is about (a mistyped kind) when there is one."""
    kinds = ", ".join(STEP_KINDS)
    if not isinstance(value, dict):
        message = f"expected a step mapping with one kind key ({kinds}), got {describe_type(value)}"
        return message, None
    common = _keys_of(StepModel)
    unknown = [key for key in value if key not in common]
    for key in unknown:
        hint = did_you_mean(str(key), list(STEP_KINDS))
        if hint:
            return f"unknown step kind {key!r}{hint}", str(key)
    if len(unknown) == 1:
        return f"unknown step kind {unknown[0]!r}; a step needs one kind key: {kinds}", str(
            unknown[0]
        )
    return f"a step needs one kind key: {kinds}", None


def _yaml_hint(source: SourceMap, path: KeyPath, value: Any, *, always: bool) -> str:
    """Says what YAML made of an unquoted scalar: always for a type mismatch, otherwise only
    when the value is not what was written (``1:30`` -> 90, ``no`` -> false)."""
    info = source.scalars.get(path)
    if info is None or info.style is not None or info.tag not in _YAML_READS:
        return ""
    reinterpreted = info.tag in ("bool", "null") or info.text != str(value)
    if not (always or reinterpreted):
        return ""
    return f' (YAML reads unquoted {info.text} as {_YAML_READS[info.tag]}; quote it: "{info.text}")'
