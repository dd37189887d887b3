"""Deprecated aliases: old public names that still work, warn once per call site, and name their replacement.

Example:
>>> import warnings
>>> old = deprecated_alias(len, "kitlib.old_len", "len")
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     old([1, 2])
2
>>> str(caught[0].message)
'kitlib.old_len is deprecated: use len (see docs/ARCHITECTURE.md).'
"""

from __future__ import annotations

import functools
import warnings
from typing import Callable


def deprecated_alias(func: Callable, old: str, new: str) -> Callable:
    """``func`` under its old name ``old``: each call emits a ``DeprecationWarning`` naming ``new``."""
    @functools.wraps(func)
    def alias(*args, **kwargs):
        warnings.warn(f"{old} is deprecated: use {new} (see docs/ARCHITECTURE.md).", DeprecationWarning, stacklevel=2)
        return func(*args, **kwargs)

    alias.__doc__ = f"Deprecated alias of ``{new}``."
    return alias


def moved_names(module: str, moved: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for names that moved to a HIGHER layer (importing them here would point upwards).

    ``moved`` maps each old name to ``"kitlib.new_module.name"``; the new module is imported only when the old name
    is used (with a ``DeprecationWarning``), so the static import graph keeps pointing downwards.
    """
    def __getattr__(name: str):
        if name not in moved:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        import importlib

        target_module, _, target_name = moved[name].rpartition(".")
        warnings.warn(f"{module}.{name} is deprecated: use {moved[name]} (see docs/ARCHITECTURE.md).",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(target_module), target_name)

    return __getattr__
__all__ = ["deprecated_alias", "moved_names"]
