"""Speech engines. Each implements :class:`voxclone.engines.base.Engine`."""

from voxclone.engines.base import Engine, VoiceInfo
from voxclone.engines.registry import create_engine

__all__ = ["Engine", "VoiceInfo", "create_engine"]
