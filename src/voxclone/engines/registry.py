"""Create engines by name; heavy imports happen only for the engine asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voxclone.errors import InvalidRequest

if TYPE_CHECKING:
    from voxclone.engines.base import Engine
    from voxclone.settings import Settings

ENGINES = ("kokoro", "outetts")


def create_engine(settings: Settings) -> Engine:
    """Build the engine named by ``settings.engine``."""
    if settings.engine == "kokoro":
        from voxclone.engines.kokoro.engine import KokoroEngine

        return KokoroEngine.from_settings(settings)
    if settings.engine == "outetts":
        from voxclone.engines.outetts.engine import OuteTTSEngine

        return OuteTTSEngine.from_settings(settings)
    raise InvalidRequest(f"unknown engine {settings.engine!r}; choose one of {', '.join(ENGINES)}")
