"""Lazy imports of optional dependencies with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from voxclone.errors import MissingDependency


def require(module: str, *, extra: str | None, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming the extra (or package) to install."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pkg = package or module
        hint = f"pip install 'voxclone[{extra}]'" if extra else f"pip install {pkg}"
        if isinstance(e, ModuleNotFoundError) and e.name == module.split(".")[0]:
            raise MissingDependency(f"{pkg} is not installed; install it with: {hint}") from e
        raise MissingDependency(
            f"{pkg} is installed but fails to import ({e}); "
            f"reinstall it with: pip install --force-reinstall {pkg}"
        ) from e
