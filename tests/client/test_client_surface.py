"""The SDK's public surface and its small pure helpers (no server needed)."""

from __future__ import annotations

import inspect
import io
import struct
from pathlib import Path

import numpy as np
import pytest

import voxclone
import voxclone.client as sdk
from voxclone.client import resources
from voxclone.client._files import read_audio_input
from voxclone.client._pcm import PcmDecoder
from voxclone.client._retry import parse_retry_after, retry_delay, should_retry_status


def test_public_names() -> None:
    assert sdk.__all__ == sorted(sdk.__all__, key=lambda n: (not n.isupper(), n))
    for name in sdk.__all__:
        assert getattr(voxclone, name) is getattr(sdk, name)  # lazily re-exported at the root
    assert voxclone.OuteAI is sdk.Client and voxclone.OuteAIAPIError is sdk.APIStatusError
    assert issubclass(sdk.APITimeoutError, sdk.APIConnectionError)
    assert all(issubclass(getattr(sdk, n), sdk.VoxcloneError) for n in sdk.__all__ if n.endswith("Error"))


@pytest.mark.parametrize(
    ("sync", "async_"),
    [
        (resources.Speech, resources.AsyncSpeech),
        (resources.VoiceClones, resources.AsyncVoiceClones),
        (resources.Voices, resources.AsyncVoices),
        (resources.AccountResource, resources.AsyncAccountResource),
        (resources.Consent, resources.AsyncConsent),
        (sdk.Client, sdk.AsyncClient),
        (sdk.SpeechStream, sdk.AsyncSpeechStream),
    ],
)
def test_sync_and_async_twins_have_the_same_signatures(sync: type, async_: type) -> None:
    public = {n for n in dir(sync) if not n.startswith("_")}
    assert public == {n for n in dir(async_) if not n.startswith("_")}
    for name in public:
        a, b = getattr(sync, name), getattr(async_, name)
        if inspect.isfunction(a):
            params_a = list(inspect.signature(a).parameters.values())
            params_b = list(inspect.signature(b).parameters.values())
            if name in ("__init__", "with_options"):
                params_a, params_b = params_a[:-1], params_b[:-1]  # http_client types differ
            assert [(p.name, p.kind, p.default) for p in params_a] == [
                (p.name, p.kind, p.default) for p in params_b
            ], name


def test_methods_are_keyword_only() -> None:
    for cls in (resources.Speech, resources.VoiceClones, resources.Consent, sdk.Client):
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            # these take the id like a path
            one_id = ("retrieve", "retrieve_consent", "delete", "wait_for_similarity")
            if name.startswith("_") or name in (*one_id, "close", "with_options"):
                continue
            kinds = [p.kind for p in inspect.signature(fn).parameters.values()][1:]
            positional = [k for k in kinds if k is inspect.Parameter.POSITIONAL_OR_KEYWORD]
            assert len(positional) <= (1 if name.endswith("_to_file") else 0), name


def test_audio_input_kinds(tmp_path: Path) -> None:
    path = tmp_path / "me.flac"
    path.write_bytes(b"fLaC" + bytes(10))
    assert read_audio_input(path) == ("me.flac", b"fLaC" + bytes(10), "audio/flac")
    assert read_audio_input(str(path))[0] == "me.flac"
    with path.open("rb") as f:
        assert read_audio_input(f)[:2] == ("me.flac", b"fLaC" + bytes(10))
    assert read_audio_input(b"ID3\x04rest")[0] == "audio.mp3"
    assert read_audio_input(io.BytesIO(b"RIFFxxxxWAVE"))[0] == "audio.wav"
    assert read_audio_input(b"????", filename="x.ogg")[0] == "x.ogg"
    assert read_audio_input(b"????")[2] == "application/octet-stream"
    with pytest.raises(TypeError, match="binary mode"):
        read_audio_input(io.StringIO("text"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        read_audio_input(42)  # type: ignore[arg-type]


def _wav_header(*, extra_chunk: bytes = b"", bits: int = 16) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 24000, 48000, 2, bits)
    return (
        b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + extra_chunk
        + b"data" + struct.pack("<I", 0xFFFFFFFF)
    )


@pytest.mark.parametrize("step", [1, 3, 7, 64])
def test_wav_stream_decoding_at_any_split(step: int) -> None:
    samples = (np.arange(500) * 101 % 65536 - 32768).astype("<i2")
    body = _wav_header(extra_chunk=b"LIST" + struct.pack("<I", 3) + b"abc\x00") + samples.tobytes()
    decoder = PcmDecoder(format="wav")
    out = np.concatenate([decoder.feed(body[i : i + step]) for i in range(0, len(body), step)])
    np.testing.assert_array_equal(out, samples.astype(np.float32) / 32768.0)
    assert decoder.sample_rate == 24000


def test_pcm_decoder_refuses_what_it_cannot_decode() -> None:
    with pytest.raises(sdk.VoxcloneError, match="pcm"):
        PcmDecoder(format="mp3")
    with pytest.raises(sdk.VoxcloneError, match="16-bit"):
        PcmDecoder(format="wav").feed(_wav_header(bits=24))
    with pytest.raises(sdk.VoxcloneError, match="not a WAV"):
        PcmDecoder(format="wav").feed(b"ID3\x04" + bytes(40))


def test_retry_policy_pieces() -> None:
    assert should_retry_status(408, {}) and should_retry_status(429, {}) and should_retry_status(502, {})
    assert not should_retry_status(409, {}) and not should_retry_status(400, {})
    assert should_retry_status(400, {"x-should-retry": "true"})
    assert parse_retry_after({"retry-after": "2.5"}) == 2.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert parse_retry_after({"retry-after": "soon"}) is None and parse_retry_after({}) is None
    delays = [retry_delay(n) for n in range(6)]
    assert all(0.75 * min(0.5 * 2**n, 8) <= d <= min(0.5 * 2**n, 8) for n, d in enumerate(delays))
    assert retry_delay(3, retry_after=0.0) == 0.0 and retry_delay(0, retry_after=-1) <= 0.5
