"""The runner's own configuration file: limits that apply to every playbook.

``--config FILE``, else ``$WAIAAS_RUNNER_CONFIG``, else ``~/.config/waiaas-runner/config.yaml``
when it exists. Its ``limits:`` has the playbook's ``limits:`` format (without
``allow_to`` wallet aliases, which belong to a playbook); both sets are checked, so the
stricter one wins. It is read with the playbook loader, so it has the same guarantees and
the same located problems: duplicate keys are errors (a second ``max_per_send`` must not
quietly loosen the first), numbers are plain decimals, unknown keys get "did you mean".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from runner.errors import UsageError
from runner.playbook.amounts import AmountError, AmountLiteral, UnitTable
from runner.playbook.diagnostics import Diagnostic, PlaybookError
from runner.playbook.durations import DurationError, parse_duration
from runner.playbook.fields import Model, Timeout
from runner.playbook.files import read_input_file
from runner.playbook.limits import Limits
from runner.playbook.loader import SourceMap, load_yaml
from runner.playbook.problems import diagnostics_from_validation
from runner.playbook.text_secrets import text_tokens, token_problems

__all__ = [
    "RunnerConfig",
    "default_config_path",
    "load_config",
    "parse_config",
    "retention_seconds",
]


class RunnerConfig(Model):
    limits: Limits = Field(default_factory=Limits)  # not built at import: no config, no cost
    # how long a send waits for its wallet's earlier sends to leave the daemon's signing
    # (runner.engine.pipeline); --pipeline-timeout wins over it
    pipeline_timeout: Timeout | None = None
    retain: str | None = Field(
        None,
        description='serve\'s retention: runs older than this are pruned ("30d"), or "never"',
    )

    @field_validator("retain")
    @classmethod
    def _retention(cls, value: str | None) -> str | None:
        if value is not None:
            retention_seconds(value)  # a clear error now, not when serve starts pruning
        return value


NEVER = "never"


# "off" as for --audit-every (in YAML quoted: unquoted it reads as a boolean)
_NEVER_WORDS = {NEVER, "off"}


def retention_seconds(text: str) -> float | None:
    """``--retain`` / ``retain:``: a positive duration in seconds, or None for "never";
    raises :class:`DurationError` (a located error in the config) otherwise."""
    if text.strip().lower() in _NEVER_WORDS:
        return None
    seconds = parse_duration(text).total_seconds()
    if seconds <= 0:
        raise DurationError(f'retention {text!r} is no time at all; give e.g. "30d" or "never"')
    return seconds


def default_config_path(environ: Mapping[str, str]) -> Path | None:
    if explicit := environ.get("WAIAAS_RUNNER_CONFIG"):
        return Path(explicit)
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    candidate = Path(base) / "waiaas-runner" / "config.yaml"
    return candidate if candidate.is_file() else None


def load_config(path: Path | None) -> RunnerConfig:
    if path is None:
        return RunnerConfig()
    try:
        text = read_input_file(path).decode("utf-8")
    except OSError as error:
        raise UsageError(f"cannot read the config file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the config file {path} is not UTF-8 text") from None
    try:
        return parse_config(text, str(path))
    except PlaybookError as error:
        raise UsageError(f"invalid runner config:\n{error}") from None


def parse_config(text: str, file: str) -> RunnerConfig:
    """The config file's text -> its model; raises :class:`PlaybookError` with every problem
    located (``file:line:col``), as for a playbook."""
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        if tokens := text_tokens(text):  # a comment goes into git like any value
            raise PlaybookError(token_problems(file, tokens, None, "runner config"))
        return RunnerConfig()  # an empty (or all-comment) config sets nothing
    data, source = load_yaml(text, file, what="runner config")
    if not isinstance(data, dict):
        raise PlaybookError([source.diagnostic((), "the runner config is a mapping (limits: ...)")])
    try:
        config = RunnerConfig.model_validate(data)
    except ValidationError as error:
        raise PlaybookError(
            diagnostics_from_validation(error, data, source, RunnerConfig)
        ) from None
    problems = list(_unit_problems(config.limits, source))
    if problems:
        raise PlaybookError(problems)
    return config


def _unit_problems(limits: Limits, source: SourceMap) -> list[Diagnostic]:
    """A cap in a unit that is a built-in one written differently ("0.5 eth") would never
    match a send and so silently limit nothing: refuse it. Other units name tokens."""
    natives = UnitTable()
    folded = {name.casefold(): name for name in natives.units}
    problems: list[Diagnostic] = []
    for name, caps in limits.caps().items():
        for index, cap in enumerate(caps):
            path = (
                ("limits", name, index)
                if ("limits", name, index) in source.values
                else (
                    "limits",
                    name,
                )
            )
            unit = cap.unit if isinstance(cap, AmountLiteral) else cap.token
            if unit in natives.units:
                try:
                    natives.resolve(cap)
                except AmountError as error:
                    problems.append(source.diagnostic(path, str(error)))
            elif unit.casefold() in folded:
                problems.append(
                    source.diagnostic(
                        path,
                        f"unknown unit {unit!r} (did you mean {folded[unit.casefold()]!r}?)",
                    )
                )
    return problems
