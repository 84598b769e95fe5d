"""Helpers shared by the audio tests (byte encoders and an independent decoder)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import soundfile as sf

SR = 24000


def wav_bytes(audio: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def av_bytes(audio: np.ndarray, sr: int, container: str, codec: str, rate: int | None = None) -> bytes:
    """Encode mono float audio with PyAV into ``container`` (e.g. webm/libopus, ipod/aac)."""
    import av

    rate = rate or sr
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream: Any = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        fmt = stream.codec_context.codec.audio_formats[0].name
        resampler = av.AudioResampler(format=fmt, layout="mono", rate=rate,
                                      frame_size=stream.codec_context.frame_size or None)
        frame = av.AudioFrame.from_ndarray(
            (np.clip(audio, -1, 1) * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = sr
        frames = resampler.resample(frame) + resampler.resample(None)
        pts = 0
        for f in frames:
            f.pts = pts
            pts += f.samples
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def decode_any(data: bytes) -> tuple[np.ndarray, int]:
    """Decode with PyAV (independent of the code under test's soundfile path)."""
    import av

    parts = []
    resampler = av.AudioResampler(format="fltp", layout="mono")
    with av.open(io.BytesIO(data)) as c:
        rate = 0
        for frame in c.decode(audio=0):
            rate = frame.sample_rate
            for f in resampler.resample(frame):
                parts.append(f.to_ndarray().reshape(-1, f.samples).mean(axis=0))
    return np.concatenate(parts), rate
