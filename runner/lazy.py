"""Third-party modules imported on first use instead of at start-up.

A one-shot run pays for every module it imports, on every cron tick. A library that only
some playbooks or only a failure needs (the cron parser, the Keccak hash, tenacity) is
declared at the top of the module that uses it::

    if TYPE_CHECKING:
        import tenacity
    else:
        tenacity = lazy_module("tenacity")

and imported when one of its attributes is first read. The type checker sees the real
module. Runner modules are never loaded this way: the architecture test reads the import
statements, and must see every edge between the rooms.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["LazyModule", "import_all", "lazy_module"]

_DECLARED: list[LazyModule] = []


class LazyModule:
    """Stands in for a module until one of its attributes is read."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        if name.partition(".")[0] == "runner":
            raise ValueError(f"{name}: runner modules are imported plainly")
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        # Only reached when the usual lookup fails. Dunder probes (copy, pickle, hasattr
        # of protocols) and the proxy's own unset slots must not import, nor recurse.
        if attribute in LazyModule.__slots__ or (
            attribute.startswith("__") and attribute.endswith("__")
        ):
            raise AttributeError(attribute)
        return getattr(self.load(), attribute)

    def load(self) -> ModuleType:
        """The module itself, imported now if it was not yet."""
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return self._module

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


def lazy_module(name: str) -> Any:
    """``name`` (a third-party module), imported when first used."""
    module = LazyModule(name)
    _DECLARED.append(module)
    return module


def import_all() -> None:
    """Imports every module declared lazy so far. A long-lived process (serve) calls it at
    start: laziness pays only for one-shot runs, and a retry that must import tenacity
    after the installed packages changed under a running process could fail."""
    for module in _DECLARED:
        module.load()
