"""The runner's own configuration file: limits that apply to every playbook.

``--config FILE``, else ``$WAIAAS_RUNNER_CONFIG``, else ``~/.config/waiaas-runner/config.yaml``
when it exists. Its ``limits:`` has the playbook's ``limits:`` format (without
``allow_to`` wallet aliases, which belong to a playbook); both sets are checked, so the
stricter one wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from runner.errors import UsageError
from runner.playbook.amounts import AmountError, AmountLiteral, UnitTable
from runner.playbook.fields import Model
from runner.playbook.limits import Limits

__all__ = ["RunnerConfig", "default_config_path", "load_config"]


class RunnerConfig(Model):
    limits: Limits = Limits()


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
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise UsageError(f"cannot read the config file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the config file {path} is not UTF-8 text") from None
    except yaml.YAMLError as error:
        raise UsageError(f"{path}: not valid YAML: {error}") from None
    try:
        config = RunnerConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise UsageError(f"{path}: {problems}") from None
    _check_units(config.limits, path)
    return config


def _check_units(limits: Limits, path: Path) -> None:
    """A cap in a unit that is a built-in one written differently ("0.5 eth") would never
    match a send and so silently limit nothing: refuse it. Other units name tokens."""
    natives = UnitTable()
    folded = {name.casefold(): name for name in natives.units}
    for name, caps in limits.caps().items():
        for cap in caps:
            unit = cap.unit if isinstance(cap, AmountLiteral) else cap.token
            if unit in natives.units:
                try:
                    natives.resolve(cap)
                except AmountError as error:
                    raise UsageError(f"{path}: limits.{name}: {error}") from None
            elif unit.casefold() in folded:
                raise UsageError(
                    f"{path}: limits.{name}: unknown unit {unit!r} "
                    f"(did you mean {folded[unit.casefold()]!r}?)"
                )
