"""Lazy imports of optional dependencies with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from voxclone.errors import MissingDependency


def require(module: str, *, extra: str, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pkg = package or module
        raise MissingDependency(
            f"{pkg} is not installed; install it with: pip install 'voxclone[{extra}]'"
        ) from e
