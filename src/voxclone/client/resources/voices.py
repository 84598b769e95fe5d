"""``client.voices``: every voice the key can synthesize with (built-in voices and your clones)."""

from __future__ import annotations

from typing import Any

from voxclone.client._resource import AsyncAPIResource, SyncAPIResource, json_data
from voxclone.client.types import Voice


def _voices(data: dict[str, Any]) -> list[Voice]:
    return [Voice.from_dict(v) for v in data.get("voices", [])]


class Voices(SyncAPIResource):
    def list(self) -> list[Voice]:
        """Built-in voices and your clones (``type`` ``"builtin"`` or ``"clone"``)."""
        return _voices(json_data(self._client._request("GET", "/api/v1/voices")))


class AsyncVoices(AsyncAPIResource):
    async def list(self) -> list[Voice]:
        """Built-in voices and your clones (``type`` ``"builtin"`` or ``"clone"``)."""
        return _voices(json_data(await self._client._request("GET", "/api/v1/voices")))
