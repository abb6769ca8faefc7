"""Playbooks: loading YAML with source positions, models, amounts, expressions, checks."""

from runner.playbook.amounts import Amount, AmountError, UnitTable
from runner.playbook.diagnostics import Diagnostic, PlaybookError
from runner.playbook.evaluate import EvalContext, EvaluationError, evaluate, render, truth
from runner.playbook.expressions import Expression, Template
from runner.playbook.facts import Facts
from runner.playbook.load import load_playbook, load_playbook_text, validate_path
from runner.playbook.models import Playbook
from runner.playbook.schema import playbook_schema, schema_text

__all__ = [
    "Amount",
    "AmountError",
    "Diagnostic",
    "EvalContext",
    "EvaluationError",
    "Expression",
    "Facts",
    "Playbook",
    "PlaybookError",
    "Template",
    "UnitTable",
    "evaluate",
    "load_playbook",
    "load_playbook_text",
    "playbook_schema",
    "render",
    "schema_text",
    "truth",
    "validate_path",
]
