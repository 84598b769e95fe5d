"""Whole-file speech answers carry exact lengths in every format; streams stay streams.

The fake engine speaks 0.1 s (2,400 samples at 24 kHz) per word, so three words are 7,200
samples. ``/api/v1/tts_non_stream`` answers whole files; ``/v1/audio/speech`` renders WAV and
FLAC whole (their headers hold the length) unless the client asks for ``stream_format: audio``.
"""

from __future__ import annotations

import io
import wave
from typing import Any

import pytest
import soundfile as sf

from voxclone.audio.encode import FORMATS

WORDS = "one two three"
SAMPLES = 3 * 2400


def _av_frames(data: bytes) -> tuple[int, int]:
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        return sum(frame.samples for frame in container.decode(stream)), int(stream.rate)


def _check_exact(fmt: str, data: bytes) -> None:
    if fmt == "pcm":
        assert len(data) == 2 * SAMPLES
        return
    if fmt == "aac":  # ADTS has no length field: priming (1024) plus padding to a frame
        frames, rate = _av_frames(data)
        assert rate == 24000 and SAMPLES <= frames - 1024 <= SAMPLES + 1024
        return
    rate = 48000 if fmt == "opus" else 24000
    expected = SAMPLES * rate // 24000
    assert sf.info(io.BytesIO(data)).frames == expected
    assert len(sf.read(io.BytesIO(data))[0]) == expected  # "array is too big" for a streamed FLAC
    assert _av_frames(data) == (expected, rate)
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as w:
            assert w.getnframes() == SAMPLES  # a streamed WAV says 2,147,483,647


@pytest.mark.parametrize("fmt", FORMATS)
def test_tts_non_stream_files_have_exact_lengths(harness: Any, fmt: str) -> None:
    r = harness.client.post(
        "/api/v1/tts_non_stream",
        json={"text": WORDS, "voice_id": "fa_low", "response_format": fmt},
        headers=harness.new_account(),
    )
    assert r.status_code == 200, r.text
    _check_exact(fmt, r.content)


@pytest.mark.parametrize("fmt", FORMATS)
def test_openai_speech_files_read_back_at_their_length(harness: Any, fmt: str) -> None:
    r = harness.client.post(
        "/v1/audio/speech",
        json={"model": "tts-1", "input": WORDS, "voice": "fa_low", "response_format": fmt},
        headers=harness.new_account(),
    )
    assert r.status_code == 200, r.text
    if fmt in ("wav", "flac"):  # rendered whole: exact header, length announced
        _check_exact(fmt, r.content)
        assert int(r.headers["content-length"]) == len(r.content)
    elif fmt == "mp3":  # streamed: no LAME/Xing length tag, the encoder delay stays in
        frames, rate = _av_frames(r.content)
        assert rate == 24000 and SAMPLES <= frames <= SAMPLES + 2 * 1152
    else:  # streamed Ogg/Opus (granule positions), ADTS and raw PCM are exact anyway
        _check_exact(fmt, r.content)


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_openai_stream_format_audio_keeps_streaming(harness: Any, fmt: str) -> None:
    """Clients that play as they read ask for ``stream_format: audio`` and get a live stream."""
    with harness.client.stream(
        "POST",
        "/v1/audio/speech",
        json={
            "model": "tts-1",
            "input": WORDS,
            "voice": "fa_low",
            "response_format": fmt,
            "stream_format": "audio",
        },
        headers=harness.new_account(),
    ) as r:
        assert r.status_code == 200 and "content-length" not in r.headers
        data = r.read()
    if fmt == "wav":
        assert data[40:44] == b"\xff\xff\xff\xff"  # size unknown while streaming
        assert len(data) == 44 + 2 * SAMPLES
    else:
        assert _av_frames(data) == (SAMPLES, 24000)
