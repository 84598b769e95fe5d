"""The ``outeai`` SDK's methods, with its semantics, so code written for it ports by an import.

``from outeai import OuteAI`` → ``from voxclone import OuteAI`` (an alias of :class:`Client`).
Differences: ``model`` defaults to the server's engine instead of ``"outetts_1_pro"``, and the
errors are this SDK's (``OuteAIError`` / ``OuteAIAPIError`` are aliases of its root and of
:class:`APIStatusError`, which keeps ``status_code``, ``code``, ``message`` and ``payload``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxclone.client._base_client import AsyncAPIClient, SyncAPIClient
from voxclone.client._constants import DEFAULT_CHUNK_SIZE, OUTEAI_DEFAULT_MODEL
from voxclone.client._exceptions import VoxcloneError
from voxclone.client._resource import json_body, json_data
from voxclone.client._streaming import AsyncSpeechStream, SpeechStream
from voxclone.client.types import SpeechResult

if TYPE_CHECKING:
    from voxclone.client.resources import AsyncSpeech, Speech


def check_args(*, text: str, voice_id: str, model: str | None) -> dict[str, Any]:
    """The ``outeai`` SDK's client-side checks: strip, and refuse empty strings before any request."""
    text = text.strip() if isinstance(text, str) else ""
    voice_id = voice_id.strip() if isinstance(voice_id, str) else ""
    if not text:
        raise VoxcloneError("`text` must be a non-empty string.")
    if not voice_id:
        raise VoxcloneError("`voice_id` must be a non-empty string.")
    if model is not None:
        model = model.strip() if isinstance(model, str) else ""
        if not model:
            raise VoxcloneError("`model` must be a non-empty string.")
    return {"text": text, "voice_id": voice_id, "model": model, "format": "wav"}


class OuteAIMethods(SyncAPIClient):
    """Base of :class:`Client` holding the ``outeai``-style methods."""

    speech: Speech

    def health(self) -> dict[str, Any]:
        """``GET /api/v1/health``: server status, version and engine."""
        return json_body(self._request("GET", "/api/v1/health"))

    def list_voices(self) -> list[dict[str, Any]]:
        """Voices as plain dicts (``voice_id``, ``name``, ``type``, ...), like ``outeai``."""
        voices = json_data(self._request("GET", "/api/v1/voices")).get("voices", [])
        return list(voices)

    def generate_speech(
        self, *, text: str, voice_id: str, model: str | None = OUTEAI_DEFAULT_MODEL
    ) -> SpeechResult:
        """Synthesize ``text`` to a 24 kHz mono 16-bit WAV; ``.save(path)`` writes it."""
        return self.speech.create(**check_args(text=text, voice_id=voice_id, model=model))

    def generate_speech_to_file(
        self, path: str | Path, *, text: str, voice_id: str, model: str | None = OUTEAI_DEFAULT_MODEL
    ) -> Path:
        """:meth:`generate_speech` then ``save(path)``; returns the path."""
        return self.generate_speech(text=text, voice_id=voice_id, model=model).save(path)

    def stream_speech(
        self,
        *,
        text: str,
        voice_id: str,
        model: str | None = OUTEAI_DEFAULT_MODEL,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> SpeechStream:
        """Stream a WAV; the request is made now (errors raise here), as in ``outeai``.

        Iterate it for byte chunks or ``save(path)``; either closes the response at the end, and
        so does leaving its ``with`` block.
        """
        args = check_args(text=text, voice_id=voice_id, model=model)
        return self.speech.stream(**args, chunk_size=chunk_size).open()

    def stream_speech_to_file(
        self,
        path: str | Path,
        *,
        text: str,
        voice_id: str,
        model: str | None = OUTEAI_DEFAULT_MODEL,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Path:
        """:meth:`stream_speech` then ``save(path)``; returns the path."""
        with self.stream_speech(text=text, voice_id=voice_id, model=model, chunk_size=chunk_size) as stream:
            return stream.save(path)


class AsyncOuteAIMethods(AsyncAPIClient):
    """Base of :class:`AsyncClient`; ``stream_speech`` opens on ``async with``, like ``outeai``."""

    speech: AsyncSpeech

    async def health(self) -> dict[str, Any]:
        """``GET /api/v1/health``: server status, version and engine."""
        return json_body(await self._request("GET", "/api/v1/health"))

    async def list_voices(self) -> list[dict[str, Any]]:
        """Voices as plain dicts (``voice_id``, ``name``, ``type``, ...), like ``outeai``."""
        voices = json_data(await self._request("GET", "/api/v1/voices")).get("voices", [])
        return list(voices)

    async def generate_speech(
        self, *, text: str, voice_id: str, model: str | None = OUTEAI_DEFAULT_MODEL
    ) -> SpeechResult:
        """Synthesize ``text`` to a 24 kHz mono 16-bit WAV; ``.save(path)`` writes it."""
        return await self.speech.create(**check_args(text=text, voice_id=voice_id, model=model))

    async def generate_speech_to_file(
        self,
        path: str | Path,
        *,
        text: str,
        voice_id: str,
        model: str | None = OUTEAI_DEFAULT_MODEL,
    ) -> Path:
        """:meth:`generate_speech` then ``save(path)``; returns the path."""
        return (await self.generate_speech(text=text, voice_id=voice_id, model=model)).save(path)

    def stream_speech(
        self,
        *,
        text: str,
        voice_id: str,
        model: str | None = OUTEAI_DEFAULT_MODEL,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncSpeechStream:
        """Stream a WAV; the request is made on ``async with`` or on the first read."""
        args = check_args(text=text, voice_id=voice_id, model=model)
        return self.speech.stream(**args, chunk_size=chunk_size)

    async def stream_speech_to_file(
        self,
        path: str | Path,
        *,
        text: str,
        voice_id: str,
        model: str | None = OUTEAI_DEFAULT_MODEL,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> Path:
        """:meth:`stream_speech` then ``save(path)``; returns the path."""
        async with self.stream_speech(
            text=text, voice_id=voice_id, model=model, chunk_size=chunk_size
        ) as stream:
            return await stream.save(path)
