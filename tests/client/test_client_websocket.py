"""``client.speech.websocket`` against the real server (real Kokoro engine), sync and async."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import pytest

from voxclone import AsyncClient, Client, RealtimeError

VOICE = "en-female-1"
SENTENCE = "Hello there, my friend. The weather is lovely today."


def test_one_piece_sounds_exactly_like_the_http_route(server: Any) -> None:
    with Client(server.api_key, base_url=server.base_url) as client:
        with client.speech.websocket(voice_id=VOICE) as ws:
            ws.send(SENTENCE)
            ws.end()
            streamed = b"".join(event.audio for event in ws)
        whole = client.speech.create(text=SENTENCE, voice_id=VOICE, format="pcm").audio
    a, b = np.frombuffer(streamed, "<i2"), np.frombuffer(whole, "<i2")
    assert a.size == b.size > 0
    assert int(np.max(np.abs(a.astype(np.int32) - b.astype(np.int32)))) <= 2
    assert ws.done is not None and ws.done.audio_seconds == pytest.approx(a.size / 24000, abs=1e-3)
    assert ws.done.credits_charged > 0 and ws.errors == []


def test_tokens_from_another_thread_while_audio_plays(server: Any) -> None:
    tokens = ["Hi", ",", " I", " am", " an", " agent", ".", " I", " speak", " while", " I", " think", "."]
    with (
        Client(server.api_key, base_url=server.base_url) as client,
        client.speech.websocket(voice_id=VOICE) as ws,
    ):

        def feed() -> None:
            for token in tokens:
                ws.send(token)
            ws.end()

        feeder = threading.Thread(target=feed)
        feeder.start()
        events = list(ws)
        feeder.join(timeout=60)
    assert events and sum(e.duration for e in events) == pytest.approx(ws.done.audio_seconds, abs=1e-3)  # type: ignore[union-attr]
    assert all(e.to_numpy().dtype == np.float32 for e in events)


def test_refused_start_and_bad_key_raise(server: Any) -> None:
    with Client(server.api_key, base_url=server.base_url) as client:
        with pytest.raises(RealtimeError) as refused, client.speech.websocket(voice_id="nobody") as ws:
            ws.end()
            list(ws)
        assert refused.value.code == "voice_not_found"
    with Client("oute_not_a_key", base_url=server.base_url) as bad:
        with pytest.raises(RealtimeError) as denied, bad.speech.websocket(voice_id=VOICE) as ws:
            list(ws)
        assert denied.value.code == "invalid_api_key" and denied.value.close_code == 1008


def test_async_session(server: Any) -> None:
    async def main() -> tuple[list[Any], Any]:
        async with (
            AsyncClient(server.api_key, base_url=server.base_url) as client,
            client.speech.websocket(voice_id=VOICE, speed=1.2) as ws,
        ):

            async def feed() -> None:
                for word in ["Short", "async", "test."]:
                    await ws.send(word + " ")
                await ws.end()

            sender = asyncio.ensure_future(feed())
            events = [event async for event in ws]
            await sender
            return events, ws.done

    events, done = asyncio.run(main())
    assert events and done is not None
    assert sum(e.duration for e in events) == pytest.approx(done.audio_seconds, abs=1e-3)
