"""Encode float32 mono audio to the wire formats, whole or streamed.

Formats: ``wav`` (16-bit PCM), ``pcm`` (raw s16le), ``mp3`` (LAME), ``aac`` (ADTS), ``opus``
(Ogg, 48 kHz), ``flac``. Streaming encoders emit bytes as soon as the codec releases them, so the
first bytes of a response leave before synthesis ends.

The streamed WAV header is written before the length is known: its RIFF and ``data`` sizes are
``0xFFFFFFFF`` ("as long as the stream"), a convention ffmpeg, browsers and libsndfile read to the
end of the file (Python's ``wave`` reports 2,147,483,647 frames; voxclone's SDK and CLI write the
real sizes when they save a stream). :func:`encode_all` writes exact sizes.
"""

from __future__ import annotations

import io
import struct
from typing import Any, Protocol

import numpy as np

from voxclone.errors import InvalidRequest

FORMATS = ("wav", "mp3", "opus", "aac", "flac", "pcm")
LENGTH_IN_HEADER = frozenset({"wav", "flac"})
"""Formats whose header states the total length (RIFF/data sizes, FLAC STREAMINFO samples). A
stream cannot know it, so a route answering a file a client reads whole renders these with
:func:`encode_all`. The others stream as complete files: Ogg pages carry granule positions, ADTS
and raw PCM have no length field, and an MP3 stream is plain CBR frames (only its gapless LAME tag,
trimming ~60 ms of encoder delay and padding, needs the whole file)."""

CONTENT_TYPES = {
    "wav": "audio/wav",
    "pcm": "audio/pcm",
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
}

# format -> (container, codec, sample format, bitrate or None, fixed output rate or None)
_AV_SPECS: dict[str, tuple[str, str, str, int | None, int | None]] = {
    "mp3": ("mp3", "libmp3lame", "s16p", 128_000, None),
    "aac": ("adts", "aac", "fltp", 96_000, None),
    "opus": ("ogg", "libopus", "s16", 64_000, 48_000),
    "flac": ("flac", "flac", "s16", None, None),
}
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_UNKNOWN_SIZE = 0xFFFFFFFF


class Encoder(Protocol):
    """A streaming encoder: feed float32 chunks, collect bytes, then finish once."""

    content_type: str
    sample_rate: int

    def encode(self, chunk: np.ndarray) -> bytes: ...

    def finish(self) -> bytes: ...


def to_int16(audio: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16, clipping out-of-range samples and NaNs to silence."""
    x = np.nan_to_num(np.asarray(audio, dtype=np.float32).reshape(-1), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.asarray(np.round(np.clip(x, -1.0, 1.0) * 32767.0), dtype="<i2")


def wav_header(sample_rate: int, n_samples: int | None) -> bytes:
    """44-byte header of a mono 16-bit PCM WAV; ``n_samples=None`` writes the streaming sizes."""
    if n_samples is None:
        riff = data = _UNKNOWN_SIZE
    else:
        data = 2 * n_samples
        riff = 36 + data
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", data)


def _check_format(fmt: str) -> str:
    key = (fmt or "").lower().strip()
    if key not in FORMATS:
        raise InvalidRequest(
            f"Unsupported audio format {fmt!r}; choose one of {', '.join(FORMATS)}.",
            code="unsupported_format",
        )
    return key


class PcmEncoder:
    """Raw little-endian signed 16-bit mono (``pcm``), or a streamed WAV when ``wav=True``."""

    def __init__(self, sample_rate: int, *, wav: bool = False):
        self.sample_rate = sample_rate
        self.content_type = CONTENT_TYPES["wav" if wav else "pcm"]
        self._pending_header = wav_header(sample_rate, None) if wav else b""

    def encode(self, chunk: np.ndarray) -> bytes:
        out = self._pending_header + to_int16(chunk).tobytes()
        self._pending_header = b""
        return out

    def finish(self) -> bytes:
        out, self._pending_header = self._pending_header, b""
        return out


class _Sink:
    """Write-only, non-seekable file object so the muxer never rewrites earlier bytes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class AvEncoder:
    """PyAV (FFmpeg) encoder for mp3, aac, opus and flac.

    Streaming (default): bytes are returned as the muxer writes them and nothing already sent is
    rewritten, so a streamed FLAC carries no total length in its header (ffmpeg and browsers play
    it; ``soundfile.read`` needs the length and refuses, ``soundfile.blocks`` works).
    ``seekable=True`` buffers everything and returns it from :meth:`finish`, letting the muxer
    patch headers (FLAC STREAMINFO length and MD5, the MP3 Xing/LAME frame count).
    """

    def __init__(self, fmt: str, sample_rate: int, *, seekable: bool = False):
        import av

        container_fmt, codec, sample_fmt, bitrate, fixed_rate = _AV_SPECS[fmt]
        out_rate = fixed_rate or sample_rate
        if fmt == "mp3" and out_rate not in _MP3_RATES:
            out_rate = min(_MP3_RATES, key=lambda r: abs(r - sample_rate))
        self.sample_rate = sample_rate
        self.output_rate = out_rate
        self.content_type = CONTENT_TYPES[fmt]
        self._sink = _Sink()
        self._seekable = io.BytesIO() if seekable else None
        # Ogg pages default to 1 s; 100 ms pages let a stream start playing sooner.
        options = {"page_duration": "100000"} if container_fmt == "ogg" else {}
        target = self._seekable if self._seekable is not None else self._sink
        self._container = av.open(target, mode="w", format=container_fmt, options=options)
        stream: Any = self._container.add_stream(codec, rate=out_rate)
        stream.layout = "mono"
        stream.format = sample_fmt
        if bitrate:
            stream.bit_rate = bitrate
        self._stream: Any = stream
        self._stream.codec_context.open(strict=False)
        frame_size = self._stream.codec_context.frame_size or 0
        self._resampler = av.AudioResampler(
            format=sample_fmt, layout="mono", rate=out_rate, frame_size=frame_size or None
        )
        self._pts = 0
        self._in_pts = 0
        self._closed = False

    def _write(self, frames: list[Any]) -> None:
        for frame in frames:
            frame.pts = self._pts
            self._pts += frame.samples
            for packet in self._stream.encode(frame):
                self._container.mux(packet)

    def encode(self, chunk: np.ndarray) -> bytes:
        import av

        x = to_int16(chunk)
        if len(x) == 0:
            return self._sink.take()
        frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        frame.pts = self._in_pts
        self._in_pts += len(x)
        self._write(self._resampler.resample(frame))
        return self._sink.take()

    def finish(self) -> bytes:
        if self._closed:
            return b""
        self._closed = True
        self._write(self._resampler.resample(None))
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        if self._seekable is not None:
            return self._seekable.getvalue()
        return self._sink.take()


def open_encoder(format: str, sample_rate: int) -> Encoder:
    """Start a streaming encoder.

    Parameters
    ----------
    format : str
        One of ``wav``, ``mp3``, ``opus``, ``aac``, ``flac``, ``pcm`` (case-insensitive).
    sample_rate : int
        Rate of the float32 chunks passed to ``encode`` in Hz (Opus output is resampled to 48 kHz).

    Raises
    ------
    InvalidRequest
        ``unsupported_format`` for any other format.
    """
    fmt = _check_format(format)
    if fmt in ("wav", "pcm"):
        return PcmEncoder(sample_rate, wav=fmt == "wav")
    return AvEncoder(fmt, sample_rate)


def encode_all(audio: np.ndarray, sample_rate: int, format: str) -> bytes:
    """Encode a whole clip; WAV gets exact RIFF/data sizes.

    Parameters
    ----------
    audio : numpy.ndarray
        Mono float audio in [-1, 1] (out-of-range samples are clipped).
    sample_rate : int
        Its rate in Hz.
    format : str
        As for :func:`open_encoder`.
    """
    fmt = _check_format(format)
    if fmt == "wav":
        pcm = to_int16(audio)
        return wav_header(sample_rate, len(pcm)) + pcm.tobytes()
    if fmt == "pcm":
        return to_int16(audio).tobytes()
    enc = AvEncoder(fmt, sample_rate, seekable=True)
    return enc.encode(audio) + enc.finish()


def content_type(format: str) -> str:
    """MIME type served for ``format``."""
    return CONTENT_TYPES[_check_format(format)]
