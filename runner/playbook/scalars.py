"""What an unquoted YAML scalar means: one rule for every field, numbers never reinterpreted.

YAML 1.1 (what PyYAML implements) reads ``010`` as 8, ``1:30`` as 90, ``0x2``, ``0b11``,
``1_000``, ``+1``, ``.5`` and ``.inf`` as numbers; YAML 1.2 and Python add ``0o10`` and
``1e3``. Money and counts must be exactly what was written, so a plain scalar that looks
like a number is only ever a number when it is written in plain decimal digits
(``10``, ``-3``, ``0.05``); every other numeric spelling is refused with a message that says
how to write it, instead of being read one way by us and another way by a reviewer.

Resolution results are cached by text: the same scalars recur across the files of one
``validate`` (``version: 1``, ``true``, wallet names), and resolving is the per-scalar cost.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

__all__ = [
    "BAD_NUMBER_TAG",
    "PLAIN_FLOAT",
    "PLAIN_INT",
    "ScalarResolver",
    "is_plain_number",
    "number_problem",
]

_TAG = "tag:yaml.org,2002:"
BAD_NUMBER_TAG = "tag:waiaas-runner:bad-number"  # never leaves the loader: becomes an error
PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
PLAIN_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
_DIGIT = re.compile(r"[0-9]")
_CACHE_LIMIT = 50_000  # distinct texts; cleared when full, so memory stays bounded
_yaml11 = Resolver()  # PyYAML's own YAML 1.1 resolution, to name the trap it would spring


def _yaml11_tag(text: str) -> str:
    return str(_yaml11.resolve(ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


_cache: dict[str, str] = {}


def is_plain_number(text: str) -> bool:
    return PLAIN_INT.fullmatch(text) is not None or PLAIN_FLOAT.fullmatch(text) is not None


def _looks_numeric(text: str, yaml11_tag: str) -> bool:
    """YAML 1.1 reads it as a number, or YAML 1.2 / Python would (``1e3``, ``0o10``)."""
    if _DIGIT.search(text) is None:  # ".inf" and ".nan" are numbers; a lone "." is text
        return text.lower().lstrip("+-") in (".inf", ".nan")
    if yaml11_tag in (f"{_TAG}int", f"{_TAG}float"):
        return True
    candidate = text.replace("_", "")
    try:
        float(candidate)
        return True
    except ValueError:
        pass
    try:
        int(candidate, 0)
        return True
    except ValueError:
        return False


def _resolve_plain(text: str) -> str:
    yaml11_tag = _yaml11_tag(text)
    if _looks_numeric(text, yaml11_tag):
        if PLAIN_INT.fullmatch(text):
            return f"{_TAG}int"
        if PLAIN_FLOAT.fullmatch(text):
            return f"{_TAG}float"
        return BAD_NUMBER_TAG
    return yaml11_tag


class ScalarResolver(Resolver):
    """PyYAML's resolver with plain scalars resolved by the rule above (and cached)."""

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is not ScalarNode or not implicit[0]:
            return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
        tag = _cache.get(value)
        if tag is None:
            if len(_cache) >= _CACHE_LIMIT:
                _cache.clear()
            tag = _cache[value] = _resolve_plain(value)
        return tag


def _exact(text: str) -> str | None:
    """The plain decimal spelling of ``text`` when it has one beyond doubt."""
    try:
        value = Decimal(text.replace("_", ""))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or abs(value.adjusted()) > 30:
        return None
    written = format(value, "f")
    return written if is_plain_number(written) else None


def number_problem(text: str) -> str:
    """Why an unquoted number-like ``text`` is refused, and how to write it instead."""
    body = text.lstrip("+-")
    lowered = body.lower()
    quote = f'or quote it if it is text: "{text}"'
    if lowered in (".inf", ".nan", "inf", "nan", "infinity"):
        return f"{text} is not a number a playbook can use; write a decimal number, {quote}"
    if re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        return f'an unquoted address is a hexadecimal number in YAML 1.1; quote it: "{text}"'
    if lowered.startswith(("0x", "0o", "0b")):
        base = {"x": 16, "o": 8, "b": 2}[lowered[1]]
        names = {16: "hexadecimal", 8: "octal", 2: "binary"}
        try:
            value = int(text.replace("_", ""), 0)
            hint = f" ({value})" if value < 10**20 else ""
        except ValueError:
            hint = ""
        return f"{text} is {names[base]} notation; write it in plain decimal digits{hint}, {quote}"
    if ":" in text:
        reading = ""
        if _yaml11_tag(text) in (f"{_TAG}int", f"{_TAG}float"):
            reading = f" (YAML 1.1 reads it as {yaml.safe_load(text)})"
        return f"{text} is base-60 notation{reading}; write the decimal value, {quote}"
    if re.fullmatch(r"[-+]?0[0-9_]+", text):
        digits = body.replace("_", "")
        octal = ""
        if re.fullmatch(r"[0-7]+", digits):
            octal = f" (YAML 1.1 reads {text} as octal {int(digits, 8)})"
        return f"{text} has a leading zero{octal}; write plain decimal digits without it, {quote}"
    exact = _exact(text)
    reason = "is not written in plain decimal digits"
    if "_" in text:
        reason = "uses '_' digit separators"
    elif "e" in lowered:
        reason = "uses exponent notation"
    elif text.startswith("+"):
        reason = "has a plus sign"
    elif body.startswith(".") or body.endswith("."):
        reason = "has a bare decimal point"
    suggestion = f"write {exact}" if exact is not None else "write plain decimal digits"
    return f"{text} {reason}; {suggestion}, {quote}"
