"""Create engines by name; heavy imports happen only for the engine asked for.

Adding an engine: a folder ``voxclone/engines/NAME`` with an :class:`~voxclone.engines.base.Engine`
subclass and a ``from_settings`` factory, one entry in :data:`ENGINES`, and the engine passing
``tests/engines/test_contract.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from voxclone.errors import InvalidRequest

if TYPE_CHECKING:
    from voxclone.engines.base import Engine
    from voxclone.settings import Settings


def _kokoro(settings: Settings) -> Engine:
    from voxclone.engines.kokoro.engine import KokoroEngine

    return KokoroEngine.from_settings(settings)


def _outetts(settings: Settings) -> Engine:
    from voxclone.engines.outetts.engine import OuteTTSEngine

    return OuteTTSEngine.from_settings(settings)


ENGINES: dict[str, Callable[[Settings], Engine]] = {"kokoro": _kokoro, "outetts": _outetts}


def create_engine(settings: Settings) -> Engine:
    """Build the engine named by ``settings.engine``."""
    factory = ENGINES.get(settings.engine)
    if factory is None:
        raise InvalidRequest(
            f"unknown engine {settings.engine!r}; choose one of {', '.join(ENGINES)}", code="unknown_engine"
        )
    return factory(settings)
