"""Package surface: the names notebooks use exist, and exported names never shadow submodules."""

import importlib
import pkgutil
import types

import pytest

import kitlib


@pytest.mark.parametrize("package", ["kitlib.data", "kitlib.models", "kitlib.train", "kitlib.eval", "kitlib.infer"])
def test_exports_resolve_and_do_not_shadow_submodules(package):
    pkg = importlib.import_module(package)
    for name in pkg.__all__:
        assert hasattr(pkg, name), f"{package}.__all__ names {name}, which is missing"
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{package}.{info.name}")
        assert isinstance(getattr(pkg, info.name), types.ModuleType), (
            f"`from {package} import {info.name}` gives {getattr(pkg, info.name)!r}, not the submodule")


def test_version():
    assert kitlib.__version__.count(".") == 2
