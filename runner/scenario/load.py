"""Loading a scenario test file: YAML with positions, the models, then the checks that
need the playbook and the sandbox fixture. Every problem is located (file:line:col)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError

from runner.playbook import Facts, Playbook, PlaybookError, load_playbook
from runner.playbook.amounts import AmountError, UnitTable, parse_amount_text
from runner.playbook.diagnostics import Diagnostic, KeyPath, describe_type, did_you_mean
from runner.playbook.exprtypes import NUMBER, STRING, ExprType, amount_of
from runner.playbook.files import SCENARIO_SUFFIXES, read_input_file
from runner.playbook.loader import SourceMap, load_yaml
from runner.playbook.problems import diagnostics_from_validation
from runner.playbook.steps.base import COMMON_OUTPUTS
from runner.playbook.steps.send import SendStep
from runner.scenario.adapter import step_id_of, var_override_problem
from runner.scenario.models import Case, ExpectedStep, SandboxSetup, ScenarioFile
from runner.scenario.world import SetupError, World, merge_setup, prepare_world

__all__ = [
    "SCENARIO_SUFFIXES",
    "LoadedCase",
    "LoadedScenario",
    "ScenarioFileError",
    "load_scenario",
    "playbook_for",
]


class ScenarioFileError(PlaybookError):
    """A test file (or the playbook it names) is invalid: located problems, exit code 2."""


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    world: World
    env: dict[str, str]
    webhook_env: list[str]


@dataclass(frozen=True)
class LoadedScenario:
    path: Path
    playbook_path: Path
    playbook: Playbook
    units: UnitTable  # the playbook's units plus the fixture's tokens
    cases: list[LoadedCase]


def playbook_for(test_file: Path) -> Path:
    """``x.test.yaml`` -> ``x.yaml`` (same suffix)."""
    name = test_file.name
    for suffix in SCENARIO_SUFFIXES:
        if name.endswith(suffix):
            return test_file.with_name(name[: -len(suffix)] + suffix.removeprefix(".test"))
    return test_file


def load_scenario(path: Path) -> LoadedScenario:
    file = str(path)
    try:
        text = read_input_file(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8"
        raise ScenarioFileError([Diagnostic(file, 1, 1, (), f"cannot read: {reason}")]) from None
    try:
        data, source = load_yaml(text, file, what="test file")
    except PlaybookError as error:
        raise ScenarioFileError(error.diagnostics) from None
    if not isinstance(data, dict):
        raise ScenarioFileError([source.diagnostic((), "a test file is a mapping with cases:")])
    try:
        scenario = ScenarioFile.model_validate(data)
    except ValidationError as error:
        raise ScenarioFileError(
            diagnostics_from_validation(error, data, source, ScenarioFile)
        ) from None
    playbook_path = path.parent / scenario.playbook if scenario.playbook else playbook_for(path)
    try:
        playbook = load_playbook(playbook_path)
    except PlaybookError as error:
        where = ("playbook",) if scenario.playbook else ()
        problems = [source.diagnostic(where, f"the playbook {playbook_path} is invalid:")]
        raise ScenarioFileError([*problems, *error.diagnostics]) from None
    return _Checker(path, source, scenario, playbook, playbook_path).run()


class _Checker:
    """The checks that need the playbook and the fixture, collecting every problem."""

    def __init__(
        self,
        path: Path,
        source: SourceMap,
        scenario: ScenarioFile,
        playbook: Playbook,
        playbook_path: Path,
    ) -> None:
        self.path, self.source, self.scenario = path, source, scenario
        self.playbook, self.playbook_path = playbook, playbook_path
        self.facts = Facts(playbook)
        self.problems: list[Diagnostic] = []
        self.step_ids = {
            step_id_of(step, index, playbook.steps): step
            for index, step in enumerate(playbook.steps)
        }

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> None:
        self.problems.append(self.source.diagnostic(path, message, at_key=at_key))

    def run(self) -> LoadedScenario:
        scenario = self.scenario
        self.world(scenario.sandbox, ("sandbox",))
        self.env(scenario.env, scenario.webhook_env, ())
        cases: list[LoadedCase] = []
        seen: set[str] = set()
        units = self.facts.units
        for index, case in enumerate(scenario.cases):
            where: KeyPath = ("cases", index)
            if case.name in seen:
                self.problem((*where, "name"), f"two cases are named {case.name!r}")
            seen.add(case.name)
            world = self.world(merge_setup(scenario.sandbox, case.sandbox), (*where, "sandbox"))
            self.env(case.env, case.webhook_env, where)
            if world is not None:
                tokens = {t.symbol: t.decimals for t in world.fixture.tokens}
                units = UnitTable({**tokens, **_token_decimals(self.playbook)})
                self.case(case, where, units, [w.name for w in world.fixture.wallets])
                cases.append(
                    LoadedCase(
                        case,
                        world,
                        {**scenario.env, **case.env},
                        [*scenario.webhook_env, *case.webhook_env],
                    )
                )
        if self.problems:
            raise ScenarioFileError(self.problems)
        return LoadedScenario(self.path, self.playbook_path, self.playbook, units, cases)

    def world(self, setup: SandboxSetup, where: KeyPath) -> World | None:
        try:
            return prepare_world(setup, self.path.parent)
        except SetupError as error:
            self.problem((*where, *error.path), error.message)
            return None

    def env(self, env: dict[str, str], webhook_env: list[str], where: KeyPath) -> None:
        declared = set(self.playbook.env)
        for name in env:
            if name not in declared:
                hint = did_you_mean(name, declared)
                self.problem(
                    (*where, "env", name),
                    f"the playbook declares no env {name!r}{hint}",
                    at_key=True,
                )
        for index, name in enumerate(webhook_env):
            if name not in declared:
                hint = did_you_mean(name, declared)
                self.problem(
                    (*where, "webhook_env", index), f"the playbook declares no env {name!r}{hint}"
                )

    def case(self, case: Case, where: KeyPath, units: UnitTable, wallets: list[str]) -> None:
        for name, text in case.vars.items():
            if name not in self.playbook.vars:
                hint = did_you_mean(name, list(self.playbook.vars))
                self.problem(
                    (*where, "vars", name), f"the playbook has no var {name!r}{hint}", at_key=True
                )
            elif (problem := var_override_problem(name, text, self.facts)) is not None:
                self.problem((*where, "vars", name), problem)
        expect: KeyPath = (*where, "expect")
        for index, send in enumerate(case.expect.sends):
            try:
                units.resolve(parse_amount_text(send.amount))
            except AmountError as error:
                self.problem((*expect, "sends", index, "amount"), str(error))
            if send.from_ not in wallets:
                hint = did_you_mean(send.from_, wallets)
                self.problem(
                    (*expect, "sends", index, "from"),
                    f"the sandbox has no wallet {send.from_!r}{hint} (its wallets: "
                    f"{', '.join(wallets)})",
                )
        for step_id, wanted in case.expect.steps.items():
            path: KeyPath = (*expect, "steps", step_id)
            step = self.step_ids.get(step_id)
            if step is None:
                hint = did_you_mean(step_id, list(self.step_ids))
                known = ", ".join(self.step_ids)
                self.problem(
                    path,
                    f"the playbook has no step {step_id!r}{hint} (steps: {known})",
                    at_key=True,
                )
                continue
            if isinstance(wanted, ExpectedStep):
                declared = step.declared_outputs(self.facts)
                for name, value in wanted.outputs.items():
                    if name not in declared:
                        hint = did_you_mean(name, list(declared))
                        self.problem(
                            (*path, "outputs", name),
                            f"step {step_id!r} ({step.kind}) has no output {name!r}{hint}",
                            at_key=True,
                        )
                    elif (problem := _output_problem(value, declared[name], units)) is not None:
                        self.problem((*path, "outputs", name), problem)
                    else:
                        self.yaml11_boolean((*path, "outputs", name))
        for index, event in enumerate(case.expect.webhook or []):
            self.webhook_event(event, (*expect, "webhook", index), units)

    def yaml11_boolean(self, path: KeyPath) -> None:
        """``sent: yes`` is true to YAML 1.1 and text to YAML 1.2: only true/false are taken,
        as in playbooks."""
        written = self.source.scalars.get(path)
        if written is not None and written.style is None and written.text.lower() in _YAML11:
            self.problem(
                path, f"YAML reads unquoted {written.text} as true or false; write true/false"
            )

    def webhook_event(self, event: dict[str, object], path: KeyPath, units: UnitTable) -> None:
        """The fields every event has are checked like outputs (a send event also carries
        its step's outputs, which are left to the comparison)."""
        kind = event.get("event")
        if kind is not None and kind not in _EVENTS:
            hint = did_you_mean(str(kind), _EVENTS)
            self.problem(
                (*path, "event"), f"no event is called {kind!r}{hint}; events: {', '.join(_EVENTS)}"
            )
        step = event.get("step")
        if isinstance(step, str) and step not in self.step_ids:
            hint = did_you_mean(step, list(self.step_ids))
            self.problem((*path, "step"), f"the playbook has no step {step!r}{hint}")
        for name, declared in _EVENT_FIELDS.items():
            if name in event and (problem := _output_problem(event[name], declared, units)):
                self.problem((*path, name), problem)
        for name in event:
            self.yaml11_boolean((*path, name))
        known = {*_EVENT_FIELDS, *_SEND_EVENT_FIELDS, "event"}
        for name in event:
            if name not in known:
                hint = did_you_mean(name, known)
                self.problem((*path, name), f"no event has a field {name!r}{hint}", at_key=True)


# what the runner posts (engine/run_events.py, the notify step), and the fields of its
# own that an event has
_EVENTS = ("send", "failure", "success", "notify")
_YAML11 = {"yes", "no", "on", "off"}
_EVENT_FIELDS = {
    "step": STRING,
    "exit_code": NUMBER,
    "amount": amount_of(None),
    "message": STRING,
    "reason": STRING,
    "summary": STRING,
    "playbook": STRING,
    "run_id": STRING,
    "to": STRING,
    "id": STRING,
}


# a send event also carries the send step's outputs (engine/steps/send.py)
_SEND_EVENT_FIELDS = {
    *SendStep.outputs,
    *COMMON_OUTPUTS,
    "steps",
    "from",
    "to_wallet",
    "limits",
}


def _output_problem(value: object, declared: ExprType, units: UnitTable) -> str | None:
    """Why an expected output can never equal what the step gives (None: it can).

    An output of a skipped step is null, so null is always possible. Without this, a typo
    (``amount: "100 USC"``, ``count: yes``) only showed as a failing case, as if the run
    had done something else."""
    if value is None:
        return None
    if declared.kind == "amount":
        if not isinstance(value, str):
            got = "a number" if isinstance(value, Decimal) else describe_type(value)
            return f'expected an amount with its unit, e.g. "{value} ETH", got {got}'
        try:
            amount = units.resolve(parse_amount_text(value))
        except AmountError as error:
            return str(error)
        if declared.symbol is not None and amount.symbol != declared.symbol:
            return f"this is an amount of {declared.symbol}, not {amount.symbol}"
        return None
    expected = {"number": Decimal, "bool": bool, "string": str}.get(declared.kind)
    if expected is None or (
        isinstance(value, expected) and not (expected is Decimal and isinstance(value, bool))
    ):
        return None
    what = {"number": "a number", "bool": "true/false", "string": "text"}[declared.kind]
    got = "a number" if isinstance(value, Decimal) else describe_type(value)
    return f"this is {what}, so {got} never matches it"


def _token_decimals(playbook: Playbook) -> dict[str, int]:
    return {symbol: token.decimals for symbol, token in playbook.tokens.items()}
