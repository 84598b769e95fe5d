"""Decode uploaded audio by its content (magic bytes), never by its file name.

Containers recognised: RIFF/RF64 WAV (8/16/24/32-bit PCM, float, A/µ-law, ADPCM), AIFF, FLAC,
Ogg (Vorbis, Opus, FLAC), MP3 (with or without ID3), ADTS AAC, Matroska/WebM (browser recordings),
MP4/M4A/3GP (AAC, ALAC) and CAF. libsndfile decodes what it can; PyAV (FFmpeg) decodes the rest.
Decoded length is capped (``max_seconds``) so a header that claims hours of audio cannot make us
allocate gigabytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from voxclone.errors import Unprocessable, UnsupportedMediaType

MAX_DECODE_SECONDS = 120.0
MAX_CHANNELS = 16
RATE_RANGE = (4000, 384000)

_TRUNCATED_NOTE = "The file ends early or is damaged near its end; the audio before that point was used."
_SUPPORTED_HINT = "Upload WAV, MP3, FLAC, OGG (Vorbis/Opus), WebM/Opus or M4A/AAC audio."


@dataclass
class DecodedAudio:
    """Decoded upload: ``audio`` float32 ``[channels, samples]`` in [-1, 1] at ``sample_rate`` Hz."""

    audio: np.ndarray
    sample_rate: int
    container: str
    codec: str | None = None
    truncated_to_cap: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.audio.shape[1] / self.sample_rate


def sniff(data: bytes) -> str | None:
    """Name of the container in ``data``'s first bytes, or ``None`` when it is not audio we know.

    Returns one of ``wav``, ``aiff``, ``flac``, ``ogg``, ``mp3``, ``aac``, ``webm``, ``mp4``, ``caf``.
    """
    head = data[:64]
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if len(head) >= 12 and head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:4] == b"caff":
        return "caf"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mp4"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: sync 12 bits, layer 00
            return "aac"
        if head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 0x3 != 0:  # MPEG audio frame, layer I-III
            return "mp3"
    return None


def decode_audio(data: bytes, *, max_seconds: float = MAX_DECODE_SECONDS) -> DecodedAudio:
    """Decode an upload to float32 ``[channels, samples]``.

    Parameters
    ----------
    data : bytes
        The whole uploaded file.
    max_seconds : float
        Decode at most this many seconds (the rest is ignored and a note says so).

    Raises
    ------
    Unprocessable
        ``unreadable_audio`` for empty, corrupt or truncated files.
    UnsupportedMediaType
        ``unsupported_audio_format`` when the bytes are not an audio container we know.
    """
    if not data:
        raise Unprocessable("The uploaded file is empty; " + _SUPPORTED_HINT, code="unreadable_audio")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedMediaType(
            "The upload is not a supported audio file. " + _SUPPORTED_HINT, code="unsupported_audio_format"
        )
    errors: list[str] = []
    if kind in ("wav", "aiff", "flac", "ogg", "mp3", "caf"):
        try:
            out = _decode_soundfile(data, kind, max_seconds)
            if out.audio.shape[1] > 0 and _TRUNCATED_NOTE not in out.notes:
                return _sanitised(out)
            if out.audio.shape[1] > 0:  # damaged tail: FFmpeg decodes frame by frame, often further
                try:
                    other = _decode_av(data, kind, max_seconds)
                except Exception:  # FFmpeg raises many error types; the libsndfile result stands
                    other = out
                best = other if other.audio.shape[1] > out.audio.shape[1] else out
                if _TRUNCATED_NOTE not in best.notes:
                    best.notes.append(_TRUNCATED_NOTE)
                return _sanitised(best)
            errors.append("no samples")
        except (RuntimeError, ValueError, TypeError) as e:  # soundfile.LibsndfileError is a RuntimeError
            errors.append(str(e))
    try:
        out = _decode_av(data, kind, max_seconds)
    except Exception as e:  # FFmpeg raises many error types for corrupt input
        raise Unprocessable(
            f"The {kind.upper()} file could not be decoded (corrupt or truncated). "
            "Re-export it, or record again and upload the original file.",
            code="unreadable_audio",
            details={"container": kind},
        ) from e
    if out.audio.shape[1] == 0:
        raise Unprocessable(
            f"The {kind.upper()} file contains no audio samples.",
            code="unreadable_audio",
            details={"container": kind},
        )
    return _sanitised(out)


def _sanitised(out: DecodedAudio) -> DecodedAudio:
    """Replace NaN/inf samples (float WAVs can hold them) so no later step sees them."""
    if not np.isfinite(out.audio).all():
        out.audio = np.nan_to_num(out.audio, nan=0.0, posinf=1.0, neginf=-1.0)
        out.notes.append("The file contained invalid (NaN/infinite) samples; they were replaced by silence.")
    return out


def _decode_soundfile(data: bytes, kind: str, max_seconds: float) -> DecodedAudio:
    import soundfile as sf

    with sf.SoundFile(io.BytesIO(data)) as f:
        sr = int(f.samplerate)
        _check_layout(sr, int(f.channels))
        cap = int(max_seconds * sr)
        # read in blocks: a header's frame count may be absent (streamed FLAC) or a lie
        blocks: list[np.ndarray] = []
        total = 0
        cut_short = False
        while total < cap:
            try:
                block = f.read(frames=min(16384, cap - total), dtype="float32", always_2d=True)
            except RuntimeError:  # corrupt/truncated tail: keep what decoded, if anything
                if not blocks:
                    raise
                cut_short = True
                break
            if len(block) == 0:
                break
            blocks.append(block)
            total += len(block)
        capped = not cut_short and total >= cap and len(f.read(frames=1, always_2d=True)) > 0
        audio = np.concatenate(blocks) if blocks else np.zeros((0, f.channels), np.float32)
        codec = f.subtype
    notes = [_TRUNCATED_NOTE] if cut_short else []
    if kind == "wav":
        notes.extend(_wav_size_notes(data, audio.shape[0], audio.shape[1]))
    return DecodedAudio(
        np.ascontiguousarray(audio.T), sr, kind, codec=codec, truncated_to_cap=capped, notes=notes
    )


def _check_layout(sample_rate: int, channels: int) -> None:
    """Refuse absurd headers before allocating anything sized by them."""
    if not RATE_RANGE[0] <= sample_rate <= RATE_RANGE[1]:
        raise ValueError(f"implausible sample rate {sample_rate}")
    if not 1 <= channels <= MAX_CHANNELS:
        raise ValueError(f"implausible channel count {channels}")


def _wav_size_notes(data: bytes, n_frames: int, channels: int) -> list[str]:
    """Say so when a WAV's data chunk claims more than the file holds (a cut-off upload)."""
    pos = data.find(b"data", 12, 4096)
    if pos < 0 or pos + 8 > len(data):
        return []
    claimed = int.from_bytes(data[pos + 4 : pos + 8], "little")
    present = len(data) - pos - 8
    if claimed not in (0, 0xFFFFFFFF) and claimed > present + 1:
        return ["The WAV file is shorter than its header says (cut off?); the audio present was used."]
    return []


def _decode_av(data: bytes, kind: str, max_seconds: float) -> DecodedAudio:
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        sr = int(stream.codec_context.sample_rate or stream.rate or 0)
        if sr <= 0:
            raise ValueError("no sample rate")
        channels = max(1, int(stream.codec_context.channels or 1))
        _check_layout(sr, channels)
        resampler = av.AudioResampler(format="fltp", layout=None, rate=sr)
        cap = int(max_seconds * sr)
        parts: list[np.ndarray] = []
        total = 0
        capped = False
        notes: list[str] = []
        frames = container.decode(stream)
        while total < cap:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.FFmpegError:  # corrupt/truncated tail: keep what decoded, if anything
                if not parts:
                    raise
                notes.append(_TRUNCATED_NOTE)
                break
            for out in resampler.resample(frame):
                arr = out.to_ndarray().astype(np.float32).reshape(out.layout.nb_channels, -1)
                if arr.shape[0] != channels:
                    arr = np.broadcast_to(arr.mean(axis=0, keepdims=True), (channels, arr.shape[1]))
                parts.append(arr)
                total += arr.shape[1]
        capped = total >= cap
    audio = np.concatenate(parts, axis=1)[:, :cap] if parts else np.zeros((channels, 0), np.float32)
    return DecodedAudio(
        np.ascontiguousarray(audio), sr, kind, codec=codec, truncated_to_cap=capped, notes=notes
    )


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Mix ``[channels, samples]`` to mono float32.

    Channels are averaged, unless that cancels most of the energy (a phase-inverted channel), in
    which case the loudest channel is used alone.
    """
    if audio.ndim == 1:
        return np.asarray(audio, np.float32)
    mix = np.asarray(audio.mean(axis=0), np.float32)
    if audio.shape[0] > 1 and audio.shape[1] > 0:
        power = (audio.astype(np.float64) ** 2).mean(axis=1)
        if float((mix.astype(np.float64) ** 2).mean()) < 0.1 * float(power.mean()):
            return np.asarray(audio[int(np.argmax(power))], np.float32)
    return mix
