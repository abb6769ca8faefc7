"""Known sandbox escapes and resource bombs: each is refused cleanly and quickly."""

from __future__ import annotations

import json
import time

import pytest

from runner.playbook import (
    EvalContext,
    EvaluationError,
    PlaybookError,
    UnitTable,
    evaluate,
    load_playbook_text,
)
from runner.playbook.expressions import Expression, ExpressionError
from runner.playbook.typecheck import Scope, check_expression

ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "(1).__class__",
    "vars.__class__",
    "vars.x.__globals__",
    "steps.a.__dict__",
    "env._private",
    "__import__('os').system('id')",
    "__builtins__",
    "globals()",
    "getattr(vars, 'x')",
    "eval('1')",
    "exec('import os')",
    "open('/etc/passwd')",
    "type(1)",
    "lambda: 1",
    "(lambda: 1)()",
    "[x for x in (1, 2)]",
    "{x for x in (1, 2)}",
    "{x: 1 for x in (1, 2)}",
    "(x for x in (1, 2))",
    "sum(x for x in (1, 2))",
    "'{0.__class__}'.format(1)",
    "'abc'.upper()",
    "[].append",
    "f'{vars}'",
    "vars.x[0]",
    "vars['x']",
    "(y := 1)",
    "max(*[1, 2])",
    "b'bytes'",
    "1j",
    "...",
    "1; import os",
    "yield 1",
    "9**9**9",
    "10**1000",
    "2**-1000",
    "(10**100)**100",
    "(" * 10_000 + "1" + ")" * 10_000,
    "not " * 10_000 + "true",
    "-" * 10_000 + "1",
    "1 + " * 5_000 + "1",
    "'" + "a" * 1_000_000 + "'",
    "'a' * 10**9",
    "'a' + 'b' * 99",
    "9" * 5_000,
    "0x10",
]


def _scope() -> Scope:
    return Scope(
        roots=frozenset({"vars", "steps", "env", "run"}), where="steps[0]", units=UnitTable()
    )


def _refused(source: str) -> bool:
    """True when the expression is refused at parse, type-check or evaluation time."""
    try:
        expression = Expression.parse(source)
        check_expression(expression, _scope())
        evaluate(expression, EvalContext(UnitTable()))
    except (ExpressionError, EvaluationError):
        return True
    return False


@pytest.mark.parametrize("source", ESCAPES, ids=[e[:40] for e in ESCAPES])
def test_escape_is_refused_without_burning_cpu(source: str) -> None:
    # CPU time, not wall time: an escape must not compute (9**9**9, huge strings), and
    # other processes on a loaded machine must not make this test flaky
    started = time.process_time()
    assert _refused(source)
    assert time.process_time() - started < 0.1


@pytest.mark.parametrize("source", ESCAPES, ids=[e[:40] for e in ESCAPES])
def test_escape_in_a_playbook_is_a_clean_validation_error(source: str) -> None:
    text = (
        "version: 1\nname: t\n"
        'daemon: {url: "${{ env.URL }}", token: "${{ env.TOKEN }}"}\n'
        f"steps:\n  - log: {json.dumps('${{ ' + source + ' }}')}\n"
    )
    started = time.process_time()
    try:
        load_playbook_text(text, "p.yaml")
    except PlaybookError as error:
        assert error.diagnostics, "a refusal carries at least one located problem"
    else:  # only expressions that fail at run time get this far; none of them is allowed to run
        pytest.fail(f"accepted at load time: {source[:60]}")
    assert time.process_time() - started < 0.5  # includes YAML parsing of up to 1 MB


def test_expression_size_limits_are_reported() -> None:
    with pytest.raises(ExpressionError, match="longer than 1000 characters"):
        Expression.parse("1 + " * 400 + "1")
    with pytest.raises(ExpressionError, match="nested deeper than 32"):
        Expression.parse("-" * 40 + "1")
