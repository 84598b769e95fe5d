"""Helpers shared by the audio tests (byte encoders and an independent decoder)."""

from __future__ import annotations

import io
import struct
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


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _utf8_number(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x800:
        return bytes([0xC0 | n >> 6, 0x80 | n & 0x3F])
    return bytes([0xE0 | n >> 12, 0x80 | (n >> 6) & 0x3F, 0x80 | n & 0x3F])


def silent_flac(*, sample_rate: int, channels: int, seconds: float, block: int = 4096) -> bytes:
    """A valid 16-bit FLAC of digital silence, built frame by frame (CONSTANT subframes).

    It is what an attacker sends: a few hundred KB that decode to gigabytes of samples
    (8 channels at 384 kHz for 125 s is ~440 KB). Encoding it with libFLAC would take seconds.
    """
    total = int(seconds * sample_rate)
    info = struct.pack(">HH", block, block) + b"\0" * 6  # block sizes; frame sizes unknown
    packed = (sample_rate << 44) | ((channels - 1) << 41) | (15 << 36) | total  # 20+3+5+36 bits
    info += packed.to_bytes(8, "big") + b"\0" * 16  # no MD5
    out = [b"fLaC", bytes([0x80, 0, 0, len(info)]), info]  # last (only) metadata block: STREAMINFO
    subframes = b"\x00\x00\x00" * channels  # CONSTANT subframe with value 0, per channel
    done, number = 0, 0
    while done < total:
        n = min(block, total - done)
        # sync + fixed blocksize; blocksize from the header end (16 bit), rate from STREAMINFO;
        # channels independent; 16 bits per sample
        head = bytes([0xFF, 0xF8, 0x70, ((channels - 1) << 4) | 0x08])
        head += _utf8_number(number) + struct.pack(">H", n - 1)
        head += bytes([_crc8(head)])
        frame = head + subframes
        out.append(frame + struct.pack(">H", _crc16(frame)))
        done += n
        number += 1
    return b"".join(out)


def remux(data: bytes, container: str) -> bytes:
    """Copy the audio packets of ``data`` into another container (no re-encoding)."""
    import av

    buf = io.BytesIO()
    with av.open(io.BytesIO(data)) as src, av.open(buf, mode="w", format=container) as dst:
        stream = src.streams.audio[0]
        out = dst.add_stream_from_template(stream)
        for packet in src.demux(stream):
            if packet.dts is None:
                continue
            packet.stream = out
            dst.mux(packet)
    return buf.getvalue()
