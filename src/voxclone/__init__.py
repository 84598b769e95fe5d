"""voxclone: a self-hosted voice-cloning speech API.

The SDK lives in :mod:`voxclone.client`; its public names are re-exported here lazily (so the
server does not import httpx-side code it never uses)::

    from voxclone import Client
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    import voxclone.client as client

    try:
        return getattr(client, name)
    except AttributeError as e:
        raise AttributeError(f"module 'voxclone' has no attribute {name!r}") from e
