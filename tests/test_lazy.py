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
