"""The method registry: every method of kitlib (``dcgan``, ``cyclegan``, ``pix2pix``, ``vae`` ...) as one
``kitlib.method.Method`` entry, declared next to its trainer.

Entries are collected from the modules that define a module-level ``METHODS`` tuple: every ``kitlib.train`` submodule
and ``kitlib.style``. A new trainer module with ``METHODS = (Method(...),)`` is found without touching this file.

Example:
>>> from kitlib import methods
>>> [m.name for m in methods.all()][:3]
['adain', 'cyclegan', 'dcgan']
>>> methods.get("ddim").defaults("demo")["epochs"]
16
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

import kitlib.train
from kitlib.method import PROFILES, Method

# Modules outside kitlib.train that declare methods (Gatys optimises an image: no trainer class).
EXTRA_MODULES = ("kitlib.style",)


@functools.cache
def _registry() -> dict[str, Method]:
    names = [f"kitlib.train.{info.name}" for info in pkgutil.iter_modules(kitlib.train.__path__)]
    found: dict[str, Method] = {}
    for module_name in sorted(names) + list(EXTRA_MODULES):
        for method in getattr(importlib.import_module(module_name), "METHODS", ()):
            if not isinstance(method, Method):
                raise TypeError(f"{module_name}.METHODS must hold kitlib.method.Method entries. Received: {method!r}")
            if method.name in found:
                raise ValueError(f"Method {method.name!r} is declared twice ({module_name} and another module).")
            found[method.name] = method
    return dict(sorted(found.items()))


def all() -> list[Method]:  # noqa: A001  (the registry's natural verb; builtins.all is not used here)
    """Every registered method, sorted by name."""
    return list(_registry().values())


def names() -> list[str]:
    """The registered method names, sorted (``python -m kitlib train`` choices)."""
    return list(_registry())


def get(name: str) -> Method:
    """The method called ``name``.

    Example:
    >>> get("pix2pix").losses[0]
    'l1+cgan'
    """
    registry = _registry()
    if name not in registry:
        raise ValueError(f"Unknown method {name!r}. Known methods: {sorted(registry)}.")
    return registry[name]


def for_run(config: dict) -> Method:
    """The method of a run directory, from its ``config.json`` (``kitlib.train.read_run_config(run_dir)``).

    Uses the ``method`` key the trainer writes (``Trainer.method_name()``); runs made before it was recorded are
    told apart by their trainer class name and ``config_match``.

    Example:
    >>> for_run({"trainer": "DiffusionModel", "model": {"conditional": True}}).name
    'palette'
    """
    if "method" in config:
        return get(config["method"])
    trainer, model = config.get("trainer"), config.get("model") or {}
    matches = [m for m in all() if m.trainer is not None and m.trainer.__name__ == trainer and m.matches(model)]
    if len(matches) != 1:
        raise ValueError(f"config.json names trainer {trainer!r}, which matches {len(matches)} methods "
                         f"({[m.name for m in matches]}); is this a kitlib run directory?")
    return matches[0]


__all__ = ["EXTRA_MODULES", "PROFILES", "Method", "all", "for_run", "get", "names"]
