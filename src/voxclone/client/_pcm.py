"""Incremental decoding of streamed 16-bit audio (raw ``pcm`` or a streamed ``wav``) to numpy."""

from __future__ import annotations

import struct

import numpy as np

from voxclone.client._exceptions import VoxcloneError
from voxclone.client._wavfile import riff_chunks


class PcmDecoder:
    """Feed byte chunks in arrival order; get float32 sample chunks in [-1, 1) out.

    Parameters
    ----------
    format : {"pcm", "wav"}
        ``pcm``: raw signed 16-bit little-endian mono. ``wav``: a RIFF/WAVE stream whose header
        comes first (its length fields may be placeholders, as in a live stream).

    Notes
    -----
    A sample split across two chunks is kept until its second byte arrives, so concatenating
    every output equals decoding the whole body at once.
    """

    def __init__(self, *, format: str) -> None:
        if format not in ("pcm", "wav"):
            raise VoxcloneError(f"numpy chunks need format 'pcm' or 'wav', not {format!r}")
        self._in_header = format == "wav"
        self._pending = b""
        self.sample_rate: int | None = None
        self.channels = 1

    def feed(self, chunk: bytes) -> np.ndarray:
        """Decode what ``chunk`` completes; returns a (possibly empty) float32 array."""
        data = self._pending + chunk
        if self._in_header:
            data = self._skip_header(data)
            if self._in_header:
                self._pending = data
                return np.zeros(0, dtype=np.float32)
        frame = 2 * self.channels
        usable = len(data) - len(data) % frame
        self._pending = data[usable:]
        samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
        if self.channels > 1:
            samples = samples.reshape(-1, self.channels)
        return samples

    def _skip_header(self, data: bytes) -> bytes:
        """Consume RIFF chunks up to ``data``; returns the rest, or all of ``data`` if incomplete."""
        try:
            for chunk_id, pos, size in riff_chunks(data):  # ValueError: not RIFF/WAVE
                if chunk_id == b"data":
                    self._in_header = False
                    return data[pos + 8 :]
                if len(data) < pos + 8 + size + (size & 1):
                    return data
                if chunk_id == b"fmt ":
                    self._read_fmt(data[pos + 8 : pos + 8 + size])  # raises VoxcloneError only
        except ValueError as e:
            raise VoxcloneError("the stream is not a WAV file") from e
        return data

    def _read_fmt(self, fmt: bytes) -> None:
        if len(fmt) < 16:
            raise VoxcloneError("malformed WAV header in the stream")
        audio_format, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
        if audio_format not in (1, 0xFFFE) or bits != 16:
            raise VoxcloneError("numpy chunks need 16-bit PCM WAV; ask for format='pcm'")
        self.channels = channels
        self.sample_rate = rate
