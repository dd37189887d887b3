"""Every docstring example of kitlib runs (quick mode; slow or data-hungry examples say ``# doctest: +SKIP``)."""

import doctest
import importlib
import pkgutil

import pytest

import kitlib

MODULES = ["kitlib"] + sorted(m.name for m in pkgutil.walk_packages(kitlib.__path__, "kitlib.")
                              if m.name != "kitlib.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, float32_runtime):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed (run " \
                               f"`python -m doctest -v {module.__file__}` to see which)"

