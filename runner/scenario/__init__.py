"""Scenario tests for playbooks: ``<name>.test.yaml`` files run by ``waiaas-run test``.

Each case runs the playbook against a fresh in-process sandbox on a frozen clock and
compares the sends it made, step outcomes, the exit code and webhook events with what the
case expects.
"""

from runner.scenario.load import (
    SCENARIO_SUFFIXES,
    LoadedScenario,
    ScenarioFileError,
    load_scenario,
    playbook_for,
)
from runner.scenario.runner import CaseResult, run_scenario
from runner.scenario.schema import scenario_schema, scenario_schema_text

__all__ = [
    "SCENARIO_SUFFIXES",
    "CaseResult",
    "LoadedScenario",
    "ScenarioFileError",
    "load_scenario",
    "playbook_for",
    "run_scenario",
    "scenario_schema",
    "scenario_schema_text",
]
