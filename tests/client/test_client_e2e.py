"""The SDK against the real server (real Kokoro engine, SQLite): every method, sync and async."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voxclone import (
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    UnprocessableEntityError,
    UnsupportedMediaTypeError,
)
from voxclone.client import APIStatusError

TEXT = "Hello there, friend."
VOICE = "en-female-1"


@pytest.fixture
def client(server: Any) -> Iterator[Client]:
    with Client(server.api_key, base_url=server.base_url) as c:
        yield c


# reads ----------------------------------------------------------------------------------------


def test_health_voices_and_account(client: Client) -> None:
    assert client.health()["status"] == "ok"
    voices = client.voices.list()
    assert VOICE in {v.voice_id for v in voices} and all(v.type in ("builtin", "clone") for v in voices)
    assert client.list_voices()[0]["voice_id"] == voices[0].voice_id  # outeai-style: plain dicts
    account = client.account.retrieve()
    assert isinstance(account.balance, Decimal) and account.balance > 0
    assert set(account["usage"]) >= {"seconds_generated", "clones_held"}


# speech ---------------------------------------------------------------------------------------


def test_speech_create_wav_pcm_and_mp3(client: Client, tmp_path: Path) -> None:
    wav = client.speech.create(text=TEXT, voice_id=VOICE)
    data, rate = sf.read(io.BytesIO(wav.audio), dtype="float32")
    assert (rate, data.ndim, wav.format) == (24000, 1, "wav") and wav.request_id
    assert wav.duration == pytest.approx(len(data) / 24000) and 0.8 < wav.duration < 10
    assert sf.info(str(wav.save(tmp_path / "a.wav"))).frames == len(data)

    pcm = client.speech.create(text=TEXT, voice_id=VOICE, format="pcm")
    samples, pcm_rate = pcm.to_numpy()
    assert pcm_rate == 24000 and pcm.duration == pytest.approx(len(samples) / 24000)
    assert abs(len(samples) - len(data)) < 2400  # same request, same length (±0.1 s)

    mp3 = client.speech.create(text=TEXT, voice_id=VOICE, format="mp3", speed=1.25)
    assert mp3.content_type.startswith("audio/mpeg") and mp3.audio[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


def test_generate_speech_outeai_style(client: Client, tmp_path: Path) -> None:
    path = client.generate_speech_to_file(tmp_path / "g.wav", text=f"  {TEXT}  ", voice_id=VOICE)
    assert sf.info(str(path)).samplerate == 24000 and sf.info(str(path)).frames > 12000


def test_stream_saves_a_complete_wav_and_closes(client: Client, tmp_path: Path) -> None:
    stream = client.speech.stream(text=TEXT, voice_id=VOICE)
    assert stream.is_closed  # nothing sent before the block
    with stream:
        assert stream.status_code == 200 and not stream.response.is_closed
        path = stream.save(tmp_path / "s.wav")
    assert stream.response.is_closed
    info = sf.info(str(path))
    assert info.samplerate == 24000 and info.frames > 24000 * 0.8
    assert info.frames * 2 + 44 == path.stat().st_size  # the header covers all the data
    with wave.open(str(path)) as w:  # the streamed 0xFFFFFFFF sizes were replaced on save
        assert w.getnframes() == info.frames


def test_stream_pcm_numpy_chunks_match_the_whole(client: Client) -> None:
    whole, _ = client.speech.create(text=TEXT, voice_id=VOICE, format="pcm").to_numpy()
    with client.speech.stream(text=TEXT, voice_id=VOICE, format="pcm", chunk_size=1001) as stream:
        chunks = list(stream.iter_pcm())
    assert len(chunks) > 1 and all(c.dtype == np.float32 for c in chunks)
    streamed = np.concatenate(chunks)
    assert abs(len(streamed) - len(whole)) < 2400 and float(np.abs(streamed).max()) > 0.05


def test_stream_wav_numpy_chunks_skip_the_header(client: Client) -> None:
    with client.speech.stream(text=TEXT, voice_id=VOICE, format="wav") as stream:
        samples = np.concatenate(list(stream.iter_pcm()))
    assert len(samples) > 24000 * 0.8 and float(np.abs(samples).max()) <= 1.0


def test_early_exit_closes_the_stream_and_server_keeps_serving(client: Client) -> None:
    long_text = "One sentence first. Then a second sentence follows it."
    with client.speech.stream(text=long_text, voice_id=VOICE) as stream:
        first = next(iter(stream))
    assert first[:4] == b"RIFF" and stream.response.is_closed
    with pytest.raises(RuntimeError), client.speech.stream(text=TEXT, voice_id=VOICE) as stream:
        raise RuntimeError("consumer failed")
    assert stream.response.is_closed
    assert client.voices.list()  # the server is fine


def test_stream_speech_outeai_style_iterates_and_closes(client: Client) -> None:
    stream = client.stream_speech(text=TEXT, voice_id=VOICE)
    assert not stream.is_closed  # like outeai, the request is made at once
    body = b"".join(stream)  # iterating to the end closes it
    assert stream.is_closed and sf.info(io.BytesIO(body)).frames > 0


# retries --------------------------------------------------------------------------------------


def test_503_then_200_is_retried(server: Any, client: Client) -> None:
    before = len(server.requests("GET", "/api/v1/voices"))
    server.inject("GET", "/api/v1/voices", 503, headers={"Retry-After": "0"})
    assert client.voices.list()
    seen = server.requests("GET", "/api/v1/voices")[before:]
    assert len(seen) == 2 and seen[1]["x-voxclone-retry-count"] == "1"


def test_stream_request_is_retried_after_503(server: Any, client: Client, tmp_path: Path) -> None:
    server.inject("POST", "/api/v1/tts_stream", 503, headers={"Retry-After": "0"})
    with client.speech.stream(text=TEXT, voice_id=VOICE) as stream:
        path = stream.save(tmp_path / "r.wav")
    assert sf.info(str(path)).frames > 0


def test_retried_clone_upload_is_not_duplicated(server: Any, needs_cloning: None) -> None:
    """The first upload is processed but its answer is lost (503): the retry must replay it."""
    key = server.new_key(credits="1")
    with Client(key, base_url=server.base_url) as client:
        server.inject("POST", "/api/v1/voice-clones", 503, headers={"Retry-After": "0"}, after_app=True)
        clone = client.voice_clones.create(audio=server.reference_wav, name="retried")
        clones = list(client.voice_clones.list_all())
        assert [c.voice_id for c in clones] == [clone.voice_id]
        assert client.account.retrieve().balance == Decimal("1") - Decimal("0.025")
        uploads = server.requests("POST", "/api/v1/voice-clones")[-2:]
        assert uploads[0]["idempotency-key"] == uploads[1]["idempotency-key"]


# clones ---------------------------------------------------------------------------------------


async def test_clone_lifecycle_sync_and_async(server: Any, needs_cloning: None) -> None:
    key = server.new_key(credits="5")
    with Client(key, base_url=server.base_url) as client:
        with open(server.reference_wav, "rb") as f:
            first = client.voice_clones.create(audio=f, name="from file")
        assert first.voice_id.startswith("vc_") and len(first.voice_id) == 29 and first.duration
        assert client.voice_clones.retrieve(first.voice_id).name == "from file"
        async with AsyncClient(key, base_url=server.base_url) as aclient:
            second = await aclient.voice_clones.create(audio=server.reference_wav.read_bytes(), name="async")
            assert (await aclient.voice_clones.retrieve(second.voice_id)).name == "async"
            assert [c.voice_id async for c in aclient.voice_clones.list_all(page_size=1)] == [
                second.voice_id,
                first.voice_id,
            ]
            page = await aclient.voice_clones.list(limit=1)
            assert [c.voice_id for c in page] == [second.voice_id] and page.has_more  # newest first
            await aclient.voice_clones.delete(second.voice_id)
        page = client.voice_clones.list(limit=1)
        assert [c.voice_id for c in page] == [first.voice_id] and not page.has_more
        every = client.voice_clones.list_all(page_size=1)
        assert [c.voice_id for c in every] == [first.voice_id]
        assert {"clone"} == {v.type for v in client.voices.list() if v.voice_id == first.voice_id}
        spoken = client.speech.create(text=TEXT, voice_id=first.voice_id)
        assert spoken.duration and spoken.duration > 0.5
        client.voice_clones.delete(first.voice_id)
        assert client.voice_clones.list().data == []
        with pytest.raises(NotFoundError):
            client.voice_clones.retrieve(first.voice_id)
        with pytest.raises(NotFoundError):
            client.speech.create(text=TEXT, voice_id=first.voice_id)
        with pytest.raises(NotFoundError):
            client.voice_clones.delete(first.voice_id)


# errors ---------------------------------------------------------------------------------------


def test_each_status_maps_to_its_class(server: Any, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def check(cls: type[APIStatusError], code: str | None, call: Any) -> None:
        with pytest.raises(cls) as info:
            call()
        err = info.value
        assert type(err) is cls and err.status_code == (err.response.status_code)
        assert err.message and err.request_id
        if code is not None:
            assert err.code == code

    check(BadRequestError, "empty_text", lambda: client.speech.create(text="   ", voice_id=VOICE))
    with Client("oute_not-a-real-key", base_url=server.base_url) as stranger:
        check(AuthenticationError, "invalid_api_key", stranger.voices.list)
    with Client(server.new_key(credits="0"), base_url=server.base_url) as broke:
        check(InsufficientCreditsError, "insufficient_credits",
              lambda: broke.speech.create(text=TEXT, voice_id=VOICE))
        check(InsufficientCreditsError, "insufficient_credits",
              lambda: broke.voice_clones.create(audio=b"RIFF-not-checked-yet", name="x"))
    check(NotFoundError, "voice_not_found", lambda: client.voice_clones.retrieve("vc_" + "0" * 26))
    check(NotFoundError, "voice_not_found", lambda: client.speech.create(text=TEXT, voice_id="no-such-voice"))
    # credits and the clone limit are checked before the upload is decoded
    monkeypatch.setattr(server.services.settings, "max_clones_per_account", 0)
    check(ConflictError, "clone_limit_reached",
          lambda: client.voice_clones.create(audio=b"RIFF-not-checked-yet", name="x"))
    monkeypatch.undo()
    big = b"RIFF" + bytes(server.services.settings.max_upload_bytes + 1024)
    check(PayloadTooLargeError, None, lambda: client.voice_clones.create(audio=big, name="big"))
    check(UnprocessableEntityError, None,
          lambda: client.speech.create(text=TEXT, voice_id=VOICE, speed="fast"))  # type: ignore[arg-type]
    server.inject("GET", "/api/v1/account", 429, headers={"Retry-After": "0"})
    check(RateLimitError, "injected_fault", client.with_options(max_retries=0).account.retrieve)
    server.inject("GET", "/api/v1/account", 503, headers={"Retry-After": "0"})
    check(InternalServerError, "injected_fault", client.with_options(max_retries=0).account.retrieve)


def test_unsupported_audio_maps_to_415(client: Client) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as info:
        not_audio = b"this is plain text, not audio" * 100
        client.voice_clones.create(audio=not_audio, name="text", filename="x.txt")
    assert info.value.code == "unsupported_audio_format"


# async ----------------------------------------------------------------------------------------


async def test_async_client_methods(server: Any, tmp_path: Path) -> None:
    async with AsyncClient(server.api_key, base_url=server.base_url) as client:
        assert (await client.health())["status"] == "ok"
        assert VOICE in {v.voice_id for v in await client.voices.list()}
        assert (await client.account.retrieve()).balance
        result = await client.speech.create(text=TEXT, voice_id=VOICE, format="flac")
        assert result.duration and result.duration > 0.5
        stream = client.speech.stream(text=TEXT, voice_id=VOICE, format="pcm")
        async with stream:
            chunks = [c async for c in stream.iter_pcm()]
        assert stream.response.is_closed and sum(len(c) for c in chunks) > 24000 * 0.8
        async with client.stream_speech(text=TEXT, voice_id=VOICE) as outeai_stream:
            path = await outeai_stream.save(tmp_path / "async.wav")
        assert sf.info(str(path)).frames > 0
        server.inject("GET", "/api/v1/voices", 503, headers={"Retry-After": "0"})
        assert await client.list_voices()
        with pytest.raises(NotFoundError):
            await client.voice_clones.retrieve("vc_" + "1" * 26)
