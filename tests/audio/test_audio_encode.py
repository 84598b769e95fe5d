"""Output encoders: every format round-trips, streams emit early, streamed WAV is complete."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest
import soundfile as sf
from audio_helpers import decode_any

from voxclone.audio.encode import FORMATS, content_type, encode_all, open_encoder, to_int16
from voxclone.errors import InvalidRequest

SR = 24000


def _tone(seconds: float = 2.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _stream(fmt: str, audio: np.ndarray, chunk: int = 4800) -> list[bytes]:
    enc = open_encoder(fmt, SR)
    parts = [enc.encode(audio[i : i + chunk]) for i in range(0, len(audio), chunk)]
    parts.append(enc.finish())
    return parts


def _dominant_hz(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))


@pytest.mark.parametrize("fmt", ["mp3", "aac", "opus", "flac"])
def test_compressed_stream_round_trips(fmt: str) -> None:
    x = _tone(2.0)
    parts = _stream(fmt, x)
    assert sum(len(p) for p in parts[:-1]) > 0, "a streaming encoder must emit bytes before finish()"
    y, rate = decode_any(b"".join(parts))
    assert rate == (48000 if fmt == "opus" else SR)
    assert abs(len(y) / rate - 2.0) < 0.12  # codec priming/padding only
    assert abs(_dominant_hz(y, rate) - 440) < 3
    assert 0.25 < np.sqrt(np.mean(y[rate // 4 : -rate // 4] ** 2)) < 0.45  # ~0.354 for a 0.5 sine


def test_streamed_wav_is_complete_for_soundfile_wave_and_ffmpeg() -> None:
    x = _tone(1.5)
    data = b"".join(_stream("wav", x))
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    y, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == SR and len(y) == len(x)
    np.testing.assert_allclose(y, x, atol=1 / 32767)
    with wave.open(io.BytesIO(data)) as w:
        frames = w.readframes(10**9)
    assert len(frames) == 2 * len(x)
    z, rate = decode_any(data)
    assert rate == SR and len(z) == len(x)


def test_wav_header_comes_first_even_for_empty_stream() -> None:
    enc = open_encoder("wav", SR)
    first = enc.encode(np.zeros(0, np.float32))
    assert first[:4] == b"RIFF" and len(first) == 44
    assert enc.encode(_tone(0.1))[:4] != b"RIFF"
    enc2 = open_encoder("WAV", SR)
    assert len(enc2.finish()) == 44


def test_encode_all_wav_has_exact_sizes() -> None:
    x = _tone(1.0)
    data = encode_all(x, SR, "wav")
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    assert int.from_bytes(data[40:44], "little") == 2 * len(x)
    info = sf.info(io.BytesIO(data))
    assert info.frames == len(x) and info.samplerate == SR and info.subtype == "PCM_16"


def test_pcm_is_raw_s16le() -> None:
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0], np.float32)
    data = encode_all(x, SR, "pcm")
    assert np.frombuffer(data, "<i2").tolist() == [0, 16384, -16384, 32767, -32767]
    assert b"".join(_stream("pcm", x, chunk=2)) == data


def test_out_of_range_and_nan_samples_are_clipped_not_wrapped() -> None:
    x = np.array([2.0, -3.0, np.nan, np.inf, -np.inf], np.float32)
    assert to_int16(x).tolist() == [32767, -32767, 0, 32767, -32767]
    y, _ = sf.read(io.BytesIO(encode_all(np.full(5, 1.7, np.float32), SR, "wav")), dtype="float32")
    assert np.all(y > 0.99)


@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_all_matches_declared_content_type(fmt: str) -> None:
    data = encode_all(_tone(0.5), SR, fmt)
    assert len(data) > 100
    assert open_encoder(fmt, SR).content_type == content_type(fmt)
    magic = {"wav": b"RIFF", "flac": b"fLaC", "opus": b"OggS"}
    if fmt in magic:
        assert data.startswith(magic[fmt])
    if fmt == "aac":
        assert data[0] == 0xFF and data[1] & 0xF6 == 0xF0  # ADTS sync word


def test_mp3_at_an_unusual_rate_is_resampled() -> None:
    enc = open_encoder("mp3", 22000)
    x = _tone(1.0, 22000)
    y, rate = decode_any(enc.encode(x) + enc.finish())
    assert rate in (22050, 24000) and abs(len(y) / rate - 1.0) < 0.1


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(InvalidRequest) as e:
        open_encoder("ogg-vorbis", SR)
    assert e.value.code == "unsupported_format" and e.value.status == 400
    with pytest.raises(InvalidRequest):
        encode_all(_tone(0.1), SR, "")


@pytest.mark.parametrize("fmt", ["flac", "mp3"])
def test_whole_file_headers_carry_the_length(fmt: str) -> None:
    x = _tone(1.0)
    y, sr = sf.read(io.BytesIO(encode_all(x, SR, fmt)), dtype="float32")
    assert sr == SR
    if fmt == "flac":
        assert len(y) == len(x)
        np.testing.assert_allclose(y, x, atol=2 / 32767)
    else:
        assert abs(len(y) - len(x)) < 0.06 * SR


def _av_frames(data: bytes) -> tuple[int, int]:
    """(decoded samples, rate) by FFmpeg, counting every frame it outputs."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        return sum(frame.samples for frame in container.decode(stream)), int(stream.rate)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_whole_file_format_reads_back_at_its_exact_length(fmt: str) -> None:
    """encode_all answers whole files: their headers state the true length (where the format has one)
    and soundfile, wave and FFmpeg all read exactly the samples that were encoded."""
    n = SR + 123  # not a multiple of any codec frame
    x = _tone(n / SR)
    assert len(x) == n
    data = encode_all(x, SR, fmt)
    if fmt == "pcm":
        assert len(data) == 2 * n
        return
    if fmt == "aac":  # ADTS has no length field; FFmpeg adds the 1024-sample priming, padded to a frame
        frames, rate = _av_frames(data)
        assert rate == SR and n <= frames - 1024 <= n + 1024
        return
    rate = 48000 if fmt == "opus" else SR
    expected = n * rate // SR
    info = sf.info(io.BytesIO(data))
    assert (info.samplerate, info.frames) == (rate, expected)
    assert len(sf.read(io.BytesIO(data), dtype="float32")[0]) == expected
    assert _av_frames(data) == (expected, rate)
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as w:
            assert w.getnframes() == n
    if fmt == "flac":  # STREAMINFO total samples: 36 bits ending 26 bytes into the block
        assert int.from_bytes(data[21:26], "big") & (2**36 - 1) == n
