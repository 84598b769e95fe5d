"""The official ``outeai`` 2.0.0 and ``openai`` SDKs, unmodified, against the real server.

Also checks the porting promise: the same ``outeai``-style code runs with ``outeai.OuteAI`` and
with ``voxclone.OuteAI``.
"""

from __future__ import annotations

import io
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import openai
import outeai
import pytest
import soundfile as sf

import voxclone

VOICE = "en-female-2"
TEXT = "Compatibility matters."


def wav_frames_match_size(path: Path) -> sf._SoundFileInfo:
    """soundfile reads the whole file: its frame count covers every data byte after the header."""
    info = sf.info(str(path))
    data, _ = sf.read(str(path), dtype="int16")
    assert len(data) == info.frames and info.frames > 12000
    assert path.stat().st_size - info.frames * 2 <= 100  # only the header is not audio
    return info


def outeai_style_program(sdk: ModuleType, api_key: str, base_url: str, out: Path) -> dict[str, Any]:
    """Code as written for the ``outeai`` SDK; only ``sdk`` (the import) changes."""
    client = sdk.OuteAI(api_key, base_url=base_url)
    try:
        voices = client.list_voices()
        voice_id = next(v["voice_id"] for v in voices if v["voice_id"] == VOICE)
        client.generate_speech(text=TEXT, voice_id=voice_id).save(out / "whole.wav")
        with client.stream_speech(text=TEXT, voice_id=voice_id) as stream:
            stream.save(out / "streamed.wav")
        chunks = b"".join(chunk for chunk in client.stream_speech(text=TEXT, voice_id=voice_id))
        try:
            client.generate_speech(text=TEXT, voice_id="no-such-voice")
        except sdk.OuteAIAPIError as e:
            error = (e.status_code, e.code, bool(e.message), e.payload.get("code"))
        try:
            client.generate_speech(text="   ", voice_id=voice_id)
        except sdk.OuteAIError as e:
            empty = str(e)
        return {"health": client.health()["status"], "chunks": chunks, "error": error, "empty": empty}
    finally:
        client.close()


@pytest.mark.parametrize("sdk", [outeai, voxclone], ids=["outeai", "voxclone"])
def test_outeai_code_runs_on_both_sdks(sdk: ModuleType, server: Any, tmp_path: Path) -> None:
    result = outeai_style_program(sdk, server.api_key, server.base_url, tmp_path)
    assert result["health"] == "ok"
    whole = wav_frames_match_size(tmp_path / "whole.wav")
    streamed = wav_frames_match_size(tmp_path / "streamed.wav")
    assert whole.samplerate == streamed.samplerate == 24000 and whole.channels == 1
    assert abs(whole.frames - streamed.frames) < 2400
    assert sf.info(io.BytesIO(result["chunks"])).frames > 12000
    assert result["error"] == (404, "voice_not_found", True, "voice_not_found")
    assert result["empty"] == "`text` must be a non-empty string."


def test_outeai_authentication_error(server: Any) -> None:
    client = outeai.OuteAI("oute_wrong-key", base_url=server.base_url)
    with client, pytest.raises(outeai.OuteAIAPIError) as info:
        client.list_voices()
    assert (info.value.status_code, info.value.code) == (401, "invalid_api_key")


async def test_async_outeai(server: Any, tmp_path: Path) -> None:
    async with outeai.AsyncOuteAI(server.api_key, base_url=server.base_url) as client:
        assert VOICE in {v["voice_id"] for v in await client.list_voices()}
        await client.generate_speech_to_file(tmp_path / "a.wav", text=TEXT, voice_id=VOICE)
        await client.stream_speech_to_file(tmp_path / "s.wav", text=TEXT, voice_id=VOICE)
    wav_frames_match_size(tmp_path / "a.wav")
    wav_frames_match_size(tmp_path / "s.wav")


def test_openai_speech_create_and_stream(server: Any, tmp_path: Path) -> None:
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.api_key, max_retries=0)
    try:
        response = client.audio.speech.create(model="tts-1", voice=VOICE, input=TEXT, response_format="wav")
        data, rate = sf.read(io.BytesIO(response.content), dtype="float32")
        assert rate == 24000 and len(data) > 12000 and float(np.abs(data).max()) > 0.05
        with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice=VOICE, input=TEXT, response_format="pcm"
        ) as streamed:
            streamed.stream_to_file(tmp_path / "speech.pcm")
        pcm = np.fromfile(tmp_path / "speech.pcm", dtype="<i2")
        assert abs(len(pcm) - len(data)) < 2400
        mp3 = client.audio.speech.create(model="tts-1", voice=VOICE, input=TEXT)  # default mp3
        assert mp3.response.headers["content-type"].startswith("audio/mpeg")
        with pytest.raises(openai.NotFoundError) as info:
            client.audio.speech.create(model="tts-1", voice="no-such-voice", input=TEXT)
        assert info.value.code == "voice_not_found"
        assert any(model.id for model in client.models.list())
    finally:
        client.close()
    stranger = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="oute_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        stranger.audio.speech.create(model="tts-1", voice=VOICE, input=TEXT)
    stranger.close()


def test_openai_sdk_with_a_clone(server: Any, needs_cloning: None) -> None:
    with voxclone.Client(server.new_key(credits="1"), base_url=server.base_url) as ours:
        clone = ours.voice_clones.create(audio=server.reference_wav, name="openai")
        client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=ours.api_key, max_retries=0)
        try:
            audio = client.audio.speech.create(
                model="tts-1", voice=clone.voice_id, input=TEXT, response_format="wav"
            )
        finally:
            client.close()
        assert sf.info(io.BytesIO(audio.content)).frames > 12000
        ours.voice_clones.delete(clone.voice_id)


def test_openai_sdk_default_voice_names(server: Any) -> None:
    """OpenAI clients send ``voice="alloy"`` (and the SDK's other names) by default: each speaks,
    as the built-in voice that lists it among its aliases."""
    from openai.types.audio import speech_create_params

    literal = next(a for a in typing.get_args(speech_create_params.Voice) if typing.get_args(a))
    names = set(typing.get_args(literal))
    assert {"alloy", "nova", "echo", "onyx", "shimmer"} <= names
    with voxclone.Client(server.api_key, base_url=server.base_url) as ours:
        owner = {a: v.voice_id for v in ours.voices.list() if v.type == "builtin" for a in v.aliases}
    assert names <= set(owner)
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.api_key, max_retries=0)
    try:

        def pcm(voice: str) -> np.ndarray:
            response = client.audio.speech.create(
                model="tts-1", voice=voice, input="Hi.", response_format="pcm"
            )
            return np.frombuffer(response.content, dtype="<i2")

        alloy = pcm("alloy")
        assert alloy.size > 2400
        np.testing.assert_array_equal(alloy, pcm(owner["alloy"]))
        for name in sorted(names - {"alloy"}):
            assert pcm(name).size > 2400, name
    finally:
        client.close()


def test_openai_sdk_every_listed_model_speaks(server: Any) -> None:
    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=server.api_key, max_retries=0)
    try:
        ids = [model.id for model in client.models.list()]
        assert {"voxclone", "voxclone-kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"} <= set(ids)
        for model in ids:
            response = client.audio.speech.create(
                model=model, voice=VOICE, input="Hi.", response_format="pcm"
            )
            assert len(response.content) > 4800, model
        with pytest.raises(openai.NotFoundError) as info:
            client.audio.speech.create(model="gpt-4o", voice=VOICE, input="Hi.")
        assert info.value.code == "model_not_found"
    finally:
        client.close()
