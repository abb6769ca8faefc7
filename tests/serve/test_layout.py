"""Serve reaches the engine through one module, so a change of the engine's layout is
absorbed in runner/serve/engine_adapter.py alone."""

from __future__ import annotations

import ast
from pathlib import Path

SERVE = Path(__file__).resolve().parents[2] / "runner" / "serve"


def test_only_the_adapter_imports_the_engine() -> None:
    importers = set()
    for path in SERVE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(name == "runner.engine" or name.startswith("runner.engine.") for name in names):
                importers.add(path.name)
    assert importers == {"engine_adapter.py"}
