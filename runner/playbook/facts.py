"""What a playbook states before any run: its units, variable types, declared env names.

Computed once after the models validate; the checks, the type checker and the engine use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from runner.playbook.amounts import NATIVE_UNITS, Amount, AmountError, UnitTable, parse_amount_text
from runner.playbook.diagnostics import KeyPath
from runner.playbook.expressions import Expression, Template
from runner.playbook.exprtypes import BOOL, NULL, NUMBER, STRING, ExprType, amount_of
from runner.playbook.models import Playbook
from runner.playbook.values import Value

__all__ = ["Facts", "referenced", "walk"]


def walk(value: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Every leaf value of a validated model with its key path (keys as written in YAML)."""
    if isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from walk(getattr(value, name), (*path, info.alias or name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, (*path, key))
    else:
        yield path, value


def referenced(expression: Expression) -> set[tuple[str, str]]:
    """``(root, first field)`` pairs the expression reads, e.g. ``("vars", "floor")``."""
    return set(expression.references)


def templates_in(value: Any) -> Iterator[Expression]:
    for _path, leaf in walk(value):
        if isinstance(leaf, Template):
            yield from (placeholder.expression for placeholder in leaf.placeholders)
        elif isinstance(leaf, Expression):
            yield leaf


@dataclass
class Facts:
    playbook: Playbook
    units: UnitTable = field(init=False)
    env: frozenset[str] = field(init=False)
    var_types: dict[str, ExprType] = field(init=False, default_factory=dict)
    static_vars: dict[str, Value] = field(init=False, default_factory=dict)
    var_problems: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        playbook = self.playbook
        self.units = UnitTable(
            {s: t.decimals for s, t in playbook.tokens.items() if s not in NATIVE_UNITS}
        )
        implicit = {
            name
            for expression in templates_in(playbook.daemon)
            for root, name in referenced(expression)
            if root == "env"
        }
        self.env = frozenset(playbook.env) | frozenset(implicit)
        for name, value in playbook.vars.items():
            self._add_var(name, value)

    def _add_var(self, name: str, value: str | bool | Decimal | None) -> None:
        if isinstance(value, bool):
            self.var_types[name], self.static_vars[name] = BOOL, value
        elif value is None:
            self.var_types[name], self.static_vars[name] = NULL, None
        elif isinstance(value, Decimal):
            self.var_types[name], self.static_vars[name] = NUMBER, value
        elif "${{" in value:
            self.var_types[name] = STRING  # refined by the checker once the template is typed
        else:
            amount = self._amount(name, value)
            if amount is None:
                self.var_types[name], self.static_vars[name] = STRING, value
            else:
                self.var_types[name], self.static_vars[name] = amount_of(amount.symbol), amount

    def _amount(self, name: str, text: str) -> Amount | None:
        """A var written like an amount with a known unit is an amount; else it is text."""
        try:
            literal = parse_amount_text(text)
        except AmountError:
            return None
        known = {unit.casefold(): unit for unit in self.units.units}
        if literal.unit not in self.units.units and literal.unit.casefold() not in known:
            return None
        try:
            return self.units.resolve(literal)
        except AmountError as error:
            self.var_problems[name] = str(error)
            return None

    def network_of(self, wallet: str | None) -> str | None:
        """The network of a wallet alias (None: the daemon's default wallet), when literal."""
        alias = wallet or self.playbook.daemon.wallet
        declared = self.playbook.wallets.get(alias) if alias else None
        network = (
            declared.network if declared and declared.network else self.playbook.daemon.network
        )
        return network.source if network is not None and network.is_static else None
