"""Base classes of the resources (``client.speech``, ``client.voice_clones``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from voxclone.client._exceptions import VoxcloneError

if TYPE_CHECKING:
    from voxclone.client._base_client import AsyncAPIClient, SyncAPIClient


class SyncAPIResource:
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client


class AsyncAPIResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object (raises :class:`VoxcloneError` if it is not one)."""
    try:
        payload = response.json()
    except ValueError as e:
        where = response.request.url.path
        raise VoxcloneError(f"Expected JSON from {where}, got {response.text[:80]!r}") from e
    if not isinstance(payload, dict):
        raise VoxcloneError("Expected a JSON object in the API response.")
    return payload


def json_data(response: httpx.Response) -> dict[str, Any]:
    """The ``data`` object of an OuteAI-style answer ``{"data": {...}}``."""
    data = json_body(response).get("data", {})
    if not isinstance(data, dict):
        raise VoxcloneError("Expected `data` to be a JSON object.")
    return data
