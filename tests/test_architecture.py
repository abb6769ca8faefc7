"""The package's layering (issue 9): every module imports on its own, no import cycles,
dependencies point one way, and imports of our own modules sit at module level."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "runner"

# Which room may import which (module-level imports, TYPE_CHECKING aside). The CLI sits on
# top; the engine below it; the playbook language, the ledger and the client below that.
ALLOWED: dict[str, set[str]] = {
    "cli": {"cli", "serve", "engine", "playbook", "ledger", "client", "sandbox", "scenario"}
    | {"errors", "secrets", "version", "addresses", "lazy", "timestamps"},
    # serve mode sits between the CLI and the engine (it reaches the engine through
    # runner/serve/engine_adapter.py only)
    "serve": {
        "timestamps",
        "addresses",
        "lazy",
        "serve",
        "engine",
        "playbook",
        "ledger",
        "client",
        "errors",
        "secrets",
    },
    # scenario tests run playbooks through the engine against an in-process sandbox
    "scenario": {"scenario", "engine", "playbook", "sandbox", "client", "errors", "secrets"}
    | {"addresses"},
    "engine": {"addresses", "lazy", "engine", "playbook", "ledger", "client", "errors", "secrets"}
    | {"timestamps"},
    "ledger": {"addresses", "lazy", "ledger", "client", "errors", "secrets", "timestamps"},
    "playbook": {"playbook", "errors", "secrets", "addresses", "lazy"},
    # the shared comparison rule and lazy third-party imports: standard library only
    "client": {"client", "addresses", "lazy"},
    "sandbox": {"sandbox", "client"},
    "errors": set(),
    "secrets": set(),
    "addresses": set(),
    "lazy": set(),
    "timestamps": set(),
    "version": set(),
    "main": {"cli"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def room(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "version"  # runner/__init__.py holds only the version
    return {"__main__": "main"}.get(parts[1], parts[1])


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, importer: str) -> Iterator[str]:
    """The runner modules an import statement loads (a name that is a submodule counts)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name.split(".")[0] == "runner")
        return
    base = node.module or ""
    if node.level:  # relative: resolve against the importing package
        package = importer.split(".")
        if MODULES[importer].name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    if base.split(".")[0] != "runner":
        return
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in MODULES else base


def module_level_imports(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.update(_targets(node, module))
            elif isinstance(node, ast.If) and not _is_type_checking(node):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)

    visit(tree.body)
    return found


def nested_imports(module: str) -> list[str]:
    """Imports of runner modules inside functions or classes, as ``line: module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for node in ast.walk(scope):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found += [f"{node.lineno}: {target}" for target in _targets(node, module)]
    return found


def graph() -> dict[str, set[str]]:
    return {module: module_level_imports(module) & set(MODULES) for module in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), plus self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_runner_modules() -> None:
    assert cycles(graph()) == []


def test_dependencies_point_one_way() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in sorted(targets)
        if room(target) not in ALLOWED[room(module)]
    ]
    assert wrong == []


def test_no_runner_import_inside_a_function_outside_the_cli() -> None:
    nested = {
        module: found
        for module in MODULES
        if room(module) != "cli" and (found := nested_imports(module))
    }
    assert nested == {}


# Each module is imported in a child forked from an interpreter that has loaded the
# third-party libraries but no runner module: a fresh interpreter as far as the runner is
# concerned, without paying for pydantic and httpx a hundred times.
_IMPORT_EACH_ALONE = """
import os, sys, traceback
import aiohttp, click, filelock, httpx, jwt, pydantic, rich.console, tenacity, yaml
assert not any(name == "runner" or name.startswith("runner.") for name in sys.modules)
failed, running = [], {}
def reap():
    pid, status = os.wait()
    if status:
        failed.append(running[pid])
    del running[pid]
for name in sys.argv[1:]:
    if len(running) >= 3:
        reap()
    pid = os.fork()
    if pid == 0:
        try:
            __import__(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    running[pid] = name
while running:
    reap()
print("failed:", failed)
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    result = _python(_IMPORT_EACH_ALONE, *MODULES)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_all_modules_import_in_any_order(order: str) -> None:
    names = sorted(MODULES, reverse=order == "reversed")
    script = f"import importlib\nfor name in {names!r}:\n    importlib.import_module(name)\n"
    result = _python(script)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_one_shot_run_never_imports_the_sandbox_server() -> None:
    script = (
        "import sys, runner.cli, runner.cli.run, runner.cli.plan, runner.engine.launch\n"
        "print(sorted(m for m in sys.modules if m.startswith(('aiohttp', 'runner.sandbox'))))"
    )
    result = _python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True
    )
