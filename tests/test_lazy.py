"""runner.lazy: a third-party module is imported on first use, and only then."""

from __future__ import annotations

import subprocess
import sys

import pytest

from runner.lazy import LazyModule, lazy_module


def test_the_module_is_imported_when_an_attribute_is_first_read() -> None:
    probe = (
        "import sys\n"
        "from runner.lazy import lazy_module\n"
        "colorsys = lazy_module('colorsys')\n"
        "assert 'colorsys' not in sys.modules, 'imported at declaration'\n"
        "assert 'not imported yet' in repr(colorsys)\n"
        "assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)\n"
        "assert 'colorsys' in sys.modules and 'imported' in repr(colorsys)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_missing_module_or_attribute_fails_on_use_with_the_usual_errors() -> None:
    missing = lazy_module("no_such_module_anywhere")
    with pytest.raises(ModuleNotFoundError):
        missing.anything  # noqa: B018
    with pytest.raises(AttributeError):
        lazy_module("colorsys").no_such_function  # noqa: B018


def test_runner_modules_are_never_loaded_lazily() -> None:
    """The architecture test reads import statements: a lazy runner import would hide
    an edge between rooms from it."""
    with pytest.raises(ValueError, match="imported plainly"):
        LazyModule("runner.engine")


def test_copy_pickle_probes_and_unset_slots_neither_import_nor_recurse() -> None:
    import copy

    probe = LazyModule("colorsys")
    assert not hasattr(probe, "__deepcopy__")
    copied = copy.copy(probe)
    assert "not imported yet" in repr(probe)
    assert copied.load().__name__ == "colorsys"
    bare = LazyModule.__new__(LazyModule)  # as copy and pickle build one
    with pytest.raises(AttributeError):
        bare._module  # noqa: B018


def test_import_all_imports_every_declared_module() -> None:
    probe = (
        "import sys\n"
        "from runner.lazy import import_all, lazy_module\n"
        "lazy_module('colorsys'); lazy_module('wave')\n"
        "assert 'wave' not in sys.modules\n"
        "import_all()\n"
        "assert 'colorsys' in sys.modules and 'wave' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
