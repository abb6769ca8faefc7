"""Loading a scenario test file: YAML with positions, the models, then the checks that
need the playbook and the sandbox fixture. Every problem is located (file:line:col)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from runner.playbook import Facts, Playbook, PlaybookError, load_playbook
from runner.playbook.amounts import AmountError, UnitTable, parse_amount_text
from runner.playbook.diagnostics import Diagnostic, KeyPath, did_you_mean
from runner.playbook.files import SCENARIO_SUFFIXES, read_input_file
from runner.playbook.loader import SourceMap, load_yaml
from runner.playbook.problems import diagnostics_from_validation
from runner.scenario.adapter import step_id_of
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
        data, source = load_yaml(text, file)
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
        for name in case.vars:
            if name not in self.playbook.vars:
                hint = did_you_mean(name, list(self.playbook.vars))
                self.problem(
                    (*where, "vars", name), f"the playbook has no var {name!r}{hint}", at_key=True
                )
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
                for name in wanted.outputs:
                    if name not in declared:
                        hint = did_you_mean(name, list(declared))
                        self.problem(
                            (*path, "outputs", name),
                            f"step {step_id!r} ({step.kind}) has no output {name!r}{hint}",
                            at_key=True,
                        )


def _token_decimals(playbook: Playbook) -> dict[str, int]:
    return {symbol: token.decimals for symbol, token in playbook.tokens.items()}
