"""Decoding uploads by content: every container we claim, and every way an upload can be bad."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import soundfile as sf
from audio_helpers import av_bytes, wav_bytes

from voxclone.audio.decode import decode_audio, sniff, to_mono
from voxclone.audio.encode import encode_all
from voxclone.errors import ServiceError, Unprocessable, UnsupportedMediaType

SR = 24000


def _tone(seconds: float = 1.0, sr: int = SR, hz: float = 300.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def _sf_bytes(audio: np.ndarray, sr: int, fmt: str, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


CASES = {
    "wav-u8": lambda x: _sf_bytes(x, SR, "WAV", "PCM_U8"),
    "wav-16": lambda x: _sf_bytes(x, SR, "WAV", "PCM_16"),
    "wav-24": lambda x: _sf_bytes(x, SR, "WAV", "PCM_24"),
    "wav-32": lambda x: _sf_bytes(x, SR, "WAV", "PCM_32"),
    "wav-float": lambda x: _sf_bytes(x, SR, "WAV", "FLOAT"),
    "flac": lambda x: _sf_bytes(x, SR, "FLAC", "PCM_16"),
    "ogg-vorbis": lambda x: _sf_bytes(x, SR, "OGG", "VORBIS"),
    "ogg-opus": lambda x: encode_all(x, SR, "opus"),
    "mp3": lambda x: encode_all(x, SR, "mp3"),
    "aac-adts": lambda x: encode_all(x, SR, "aac"),
    "webm-opus": lambda x: av_bytes(x, SR, "webm", "libopus", 48000),
    "m4a-aac": lambda x: av_bytes(x, SR, "ipod", "aac"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_container_decodes(name: str) -> None:
    x = _tone(1.0)
    data = CASES[name](x)
    out = decode_audio(data)
    y = to_mono(out.audio)
    assert abs(len(y) / out.sample_rate - 1.0) < 0.1, name
    rms = float(np.sqrt(np.mean(y[len(y) // 4 : -len(y) // 4] ** 2)))
    assert 0.2 < rms < 0.35, (name, rms)  # 0.4 sine -> 0.283
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert abs(np.argmax(spec) * out.sample_rate / len(y) - 300) < 5, name


def test_decoding_ignores_the_claimed_name() -> None:
    x = _tone(0.5)
    assert sniff(encode_all(x, SR, "mp3")) == "mp3"
    assert sniff(encode_all(x, SR, "flac")) == "flac"
    assert sniff(wav_bytes(x)) == "wav"
    assert sniff(av_bytes(x, SR, "webm", "libopus", 48000)) == "webm"
    assert sniff(av_bytes(x, SR, "ipod", "aac")) == "mp4"
    assert sniff(_png()) is None


def test_stereo_is_mixed_to_mono() -> None:
    left, right = _tone(0.5, hz=300), _tone(0.5, hz=500)
    data = _sf_bytes(np.stack([left, right], axis=1), SR, "WAV", "PCM_16")
    out = decode_audio(data)
    assert out.audio.ndim == 1 and out.channels == 2
    np.testing.assert_allclose(out.audio, (left + right) / 2, atol=2e-4)
    whole = to_mono(np.stack([left, right]))  # the whole-clip helper agrees with the streamed mix
    np.testing.assert_allclose(whole, (left + right) / 2, atol=1e-6)


def test_zero_bytes_is_unreadable() -> None:
    with pytest.raises(Unprocessable) as e:
        decode_audio(b"")
    assert e.value.code == "unreadable_audio" and e.value.status == 422


@pytest.mark.parametrize(
    "data", [_png(), b"hello world, this is text" * 10, b"\x00" * 4096, b"%PDF-1.7\n" * 50]
)
def test_non_audio_is_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as e:
        decode_audio(data)
    assert e.value.code == "unsupported_audio_format" and e.value.status == 415


@pytest.mark.parametrize("kind", ["wav", "flac", "mp3", "ogg-opus", "webm-opus", "m4a-aac"])
def test_truncated_or_corrupt_is_unreadable(kind: str) -> None:
    x = _tone(1.0)
    data = CASES[{"ogg-opus": "ogg-opus", "wav": "wav-16"}.get(kind, kind)](x)
    cut = data[:30]  # magic bytes intact, everything else missing
    with pytest.raises(Unprocessable) as e:
        decode_audio(cut)
    assert e.value.code == "unreadable_audio"
    garbled = data[:16] + bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8))
    try:
        out = decode_audio(garbled)
    except Unprocessable as err:
        assert err.code == "unreadable_audio"
    else:  # some decoders conceal errors; they must still return bounded, finite audio
        assert np.isfinite(out.audio).all() and out.duration_s < 5


def test_partially_truncated_wav_keeps_what_is_there() -> None:
    data = wav_bytes(_tone(1.0))
    out = decode_audio(data[: 44 + 2 * 12000])
    assert len(out.audio) == 12000
    assert any("shorter than its header" in n for n in out.notes)


def test_wav_header_claiming_hours_is_bounded() -> None:
    # a 16-bit mono WAV whose header claims 4 GB of data (~24 h at 24 kHz) but holds 0.5 s
    data = bytearray(wav_bytes(_tone(0.5)))
    data[4:8] = struct.pack("<I", 0xFFFFFFF0)
    data[40:44] = struct.pack("<I", 0xFFFFFFC0)
    out = decode_audio(bytes(data))
    assert len(out.audio) == 12000
    # and the cap holds even for audio that is really long
    long = wav_bytes(np.zeros(SR * 20, np.float32))
    capped = decode_audio(long, max_seconds=5.0)
    assert len(capped.audio) == 5 * SR and capped.truncated_to_cap
    exact = decode_audio(wav_bytes(np.zeros(SR * 5, np.float32)), max_seconds=5.0)
    assert len(exact.audio) == 5 * SR and not exact.truncated_to_cap


def test_low_rate_and_odd_rate_files_decode() -> None:
    for sr in (8000, 11025, 44100, 48000):
        out = decode_audio(_sf_bytes(_tone(0.5, sr), sr, "WAV", "PCM_16"))
        assert out.sample_rate == out.source_rate == sr and len(out.audio) == sr // 2


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("rate", 1_000_000_000, "unsupported_sample_rate"),
        ("rate", 1, "unsupported_sample_rate"),
        ("channels", 40000, "unreadable_audio"),  # disagrees with the block size: damaged
    ],
)
def test_absurd_header_values_are_refused_by_name(field: str, value: int, code: str) -> None:
    data = bytearray(wav_bytes(_tone(0.5)))
    if field == "rate":
        data[24:28] = struct.pack("<I", value)
    else:
        data[22:24] = struct.pack("<H", value)
    with pytest.raises(ServiceError) as e:
        decode_audio(bytes(data))
    assert (e.value.status, e.value.code) == (422, code)


def test_too_many_channels_is_refused_by_name() -> None:
    data = _sf_bytes(np.zeros((2400, 24), np.float32), SR, "WAV", "PCM_16")  # a valid 24-channel WAV
    with pytest.raises(Unprocessable) as e:
        decode_audio(data)
    assert (e.value.status, e.value.code) == (422, "unsupported_channel_count")
    assert "24 channels" in e.value.message


def test_phase_inverted_stereo_keeps_the_voice() -> None:
    x = _tone(0.5)
    out = decode_audio(_sf_bytes(np.stack([x, -x], axis=1), SR, "WAV", "FLOAT"))
    assert np.sqrt(np.mean(out.audio**2)) > 0.2
    assert np.sqrt(np.mean(to_mono(np.stack([x, -x])) ** 2)) > 0.2


def test_nan_samples_in_float_wav_are_replaced() -> None:
    x = _tone(0.5)
    x[100:200] = np.nan
    x[300] = np.inf
    out = decode_audio(_sf_bytes(x, SR, "WAV", "FLOAT"))
    assert np.isfinite(out.audio).all() and out.notes


@pytest.mark.parametrize("kind", ["flac", "mp3", "aac-adts", "ogg-opus", "webm-opus"])
def test_cut_off_upload_keeps_the_audio_before_the_cut(kind: str) -> None:
    x = _tone(3.0)
    data = CASES[kind](x)
    out = decode_audio(data[: len(data) // 2])
    assert 1.0 < out.duration_s < 2.0
    assert np.isfinite(out.audio).all() and np.abs(out.audio).max() < 0.6
