"""The official ``outeai`` 2.0.0 SDK and the ``openai`` SDK against a live server (real Kokoro)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from live_http import serve_in_thread

from voxclone.api import create_app
from voxclone.settings import Settings


@pytest.fixture
def live_server(make_settings: Callable[..., Settings], kokoro_engine: Any) -> Iterator[tuple[str, str]]:
    """(base_url, api_key) of a uvicorn server on a free loopback port."""
    app = create_app(make_settings(), engine=kokoro_engine)
    with serve_in_thread(app) as base_url:
        _, key = app.state.services.accounts.create_key(credits="5")
        yield base_url, key


def test_outeai_sdk(live_server: tuple[str, str], tmp_path: Path, kokoro_engine: Any) -> None:
    from outeai import OuteAI
    from outeai.exceptions import OuteAIAPIError

    base_url, key = live_server
    client = OuteAI(key, base_url=base_url)
    assert client.health()["status"] == "ok"
    voices = client.list_voices()
    voice = voices[0]["voice_id"]
    assert {v["voice_id"] for v in voices} >= {v.voice_id for v in kokoro_engine.builtin_voices()}
    assert all(v["type"] == "builtin" for v in voices)

    result = client.generate_speech(text="Hello there.", voice_id=voice)
    audio, sr = sf.read(io.BytesIO(result.wav_bytes), dtype="int16")
    assert sr == result.sample_rate == 24000 and audio.ndim == 1 and len(audio) > 0.3 * sr

    out = client.stream_speech_to_file(tmp_path / "s.wav", text="Hello there.", voice_id=voice)
    streamed, sr2 = sf.read(out, dtype="int16")
    assert sr2 == 24000
    assert len(streamed) == len(audio)  # the saved stream is a complete WAV of the full length

    with pytest.raises(OuteAIAPIError) as err:
        client.generate_speech(text="Hello.", voice_id="vc_01j00000000000000000000000")
    assert (err.value.status_code, err.value.code) == (404, "voice_not_found")
    with pytest.raises(OuteAIAPIError) as err:
        OuteAI("oute_" + "z" * 43, base_url=base_url).list_voices()
    assert (err.value.status_code, err.value.code) == (401, "invalid_api_key")
    client.close()


def test_openai_sdk(live_server: tuple[str, str], kokoro_engine: Any) -> None:
    import openai

    base_url, key = live_server
    client = openai.OpenAI(api_key=key, base_url=f"{base_url}/v1", max_retries=0)
    voice = kokoro_engine.builtin_voices()[1].voice_id
    response = client.audio.speech.create(
        model="tts-1", voice=voice, input="Hi there.", response_format="wav"
    )
    audio, sr = sf.read(io.BytesIO(response.content))
    assert sr == 24000 and len(audio) > 0.3 * sr
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice=voice, input="Hi there.", response_format="mp3"
    ) as streamed:
        data = b"".join(streamed.iter_bytes())
    assert len(data) > 1000
    with pytest.raises(openai.NotFoundError) as err:
        client.audio.speech.create(model="tts-1", voice="nobody", input="Hi.")
    assert err.value.code == "voice_not_found"
    assert "tts-1" in [m.id for m in client.models.list()]
    client.close()
