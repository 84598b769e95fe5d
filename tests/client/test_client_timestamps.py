"""``client.speech.create_with_timestamps`` (sync and async) against the real server."""

from __future__ import annotations

import io
from typing import Any

import soundfile as sf

from voxclone import AsyncClient, Client
from voxclone.engines.base import text_words

VOICE = "en-female-1"
TEXT = "Good morning, it is $42 today."


def _check(result: Any) -> None:
    assert [w.word for w in result.words] == text_words(TEXT)
    info = sf.info(io.BytesIO(result.audio))
    assert info.samplerate == 24000
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert result.words[0].start >= 0 and result.words[-1].end <= info.frames / 24000 + 1e-3


def test_create_with_timestamps_sync(server: Any) -> None:
    with Client(server.api_key, base_url=server.base_url) as client:
        _check(client.speech.create_with_timestamps(text=TEXT, voice_id=VOICE))


async def test_create_with_timestamps_async(server: Any) -> None:
    async with AsyncClient(server.api_key, base_url=server.base_url) as client:
        result = await client.speech.create_with_timestamps(text=TEXT, voice_id=VOICE, format="flac")
    assert result.format == "flac"
    _check(result)
