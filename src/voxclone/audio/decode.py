"""Decode uploaded audio by its content (magic bytes), never by its file name.

Containers recognised: RIFF/RF64 WAV (8/16/24/32-bit PCM, float, A/µ-law, ADPCM), AIFF, FLAC,
Ogg (Vorbis, Opus, FLAC), MP3 (with or without ID3), ADTS AAC, Matroska/WebM (browser recordings),
MP4/M4A/3GP (AAC, ALAC) and CAF. libsndfile decodes what it can; PyAV (FFmpeg) decodes the rest.

Memory and time are bounded by what is kept, not by what the file claims: before any sample is
decoded, the header's rate and channel count fix how many frames will be read (at most
``max_seconds``, and at most :data:`MAX_DECODE_SAMPLES` samples over all channels); the header's
length is never trusted (it can be absent or a lie). Blocks are mixed to mono and resampled to
at most 48 kHz as they are decoded (:class:`~voxclone.audio.mixdown.Mixdown`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from voxclone.audio.mixdown import Mixdown
from voxclone.errors import ServiceError, Unprocessable, UnsupportedMediaType

MAX_DECODE_SECONDS = 120.0
MAX_DECODE_SAMPLES = 46_080_000
"""Samples (frames x channels) decoded at most: 120 s of 192 kHz stereo, ~15 s of 8 channels at
384 kHz. Bounds decoding time; a longer stretch of a many-channel file is not needed for a voice."""
MAX_CHANNELS = 16
RATE_RANGE = (4000, 384000)
BLOCK_SAMPLES = 1 << 20
"""Samples (frames x channels) per libsndfile read: 4 MB of float32."""

_TRUNCATED_NOTE = "The file ends early or is damaged near its end; the audio before that point was used."
_NONFINITE_NOTE = "The file contained invalid (NaN/infinite) samples; they were replaced by silence."
_SUPPORTED_HINT = "Upload WAV, MP3, FLAC, OGG (Vorbis/Opus), WebM/Opus or M4A/AAC audio."


@dataclass
class DecodedAudio:
    """Decoded upload: mono float32 ``audio`` at ``sample_rate`` Hz (at most 48 kHz).

    ``source_rate`` and ``channels`` describe the file; ``peak_dbfs`` and ``clipping_ratio`` were
    measured on its decoded samples (all channels, source rate) before mixing and resampling.
    """

    audio: np.ndarray
    sample_rate: int
    container: str
    codec: str | None = None
    truncated_to_cap: bool = False
    notes: list[str] = field(default_factory=list)
    source_rate: int = 0
    channels: int = 1
    peak_dbfs: float = float("-inf")
    clipping_ratio: float = 0.0

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate


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
    """Decode an upload to mono float32 at its own rate, or 48 kHz when that is higher.

    Parameters
    ----------
    data : bytes
        The whole uploaded file.
    max_seconds : float
        Decode at most this many seconds (the rest is ignored and ``truncated_to_cap`` says so);
        files with many channels stop earlier (:data:`MAX_DECODE_SAMPLES`).

    Raises
    ------
    Unprocessable
        ``unreadable_audio`` for empty, corrupt or truncated files; ``unsupported_sample_rate``
        for a rate outside :data:`RATE_RANGE`; ``unsupported_channel_count`` for more than
        :data:`MAX_CHANNELS` channels.
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
    if kind in ("wav", "aiff", "flac", "ogg", "mp3", "caf"):
        try:
            out = _decode_soundfile(data, kind, max_seconds)
            if out.audio.size > 0 and _TRUNCATED_NOTE not in out.notes:
                return out
            if out.audio.size > 0:  # damaged tail: FFmpeg decodes frame by frame, often further
                try:
                    other = _decode_av(data, kind, max_seconds)
                except Exception:  # FFmpeg raises many error types; the libsndfile result stands
                    other = out
                best = other if other.duration_s > out.duration_s else out
                if _TRUNCATED_NOTE not in best.notes:
                    best.notes.append(_TRUNCATED_NOTE)
                return best
        except (RuntimeError, ValueError, TypeError):  # soundfile.LibsndfileError is a RuntimeError
            pass  # FFmpeg gets its turn
    try:
        out = _decode_av(data, kind, max_seconds)
    except ServiceError:
        raise
    except Exception as e:  # FFmpeg raises many error types for corrupt input
        raise Unprocessable(
            f"The {kind.upper()} file could not be decoded (corrupt or truncated). "
            "Re-export it, or record again and upload the original file.",
            code="unreadable_audio",
            details={"container": kind},
        ) from e
    if out.audio.size == 0:
        raise Unprocessable(
            f"The {kind.upper()} file contains no audio samples.",
            code="unreadable_audio",
            details={"container": kind},
        )
    return out


def _check_layout(sample_rate: int, channels: int) -> None:
    """Refuse rates and channel counts we do not decode, before decoding anything."""
    if not RATE_RANGE[0] <= sample_rate <= RATE_RANGE[1]:
        raise Unprocessable(
            f"The recording's sample rate is {sample_rate} Hz; supported rates are "
            f"{RATE_RANGE[0]}-{RATE_RANGE[1]} Hz. Re-export it at 16000-48000 Hz.",
            code="unsupported_sample_rate",
            details={"sample_rate": sample_rate},
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise Unprocessable(
            f"The recording has {channels} channels; at most {MAX_CHANNELS} are supported. "
            "Export it as mono or stereo.",
            code="unsupported_channel_count",
            details={"channels": channels},
        )


def _mixdown(sample_rate: int, channels: int, max_seconds: float) -> Mixdown:
    """The bounded sink for one decode: its frame budget is fixed here, from rate and channels."""
    _check_layout(sample_rate, channels)
    frames = min(int(max_seconds * sample_rate), MAX_DECODE_SAMPLES // channels)
    return Mixdown(sample_rate=sample_rate, channels=channels, max_frames=frames)


def _result(mix: Mixdown, kind: str, codec: str | None, notes: list[str]) -> DecodedAudio:
    audio = mix.finish()
    if mix.nonfinite:
        notes.append(_NONFINITE_NOTE)
    peak_dbfs, clip_ratio = mix.meter.result()
    return DecodedAudio(
        audio,
        mix.output_rate,
        kind,
        codec=codec,
        truncated_to_cap=mix.dropped,
        notes=notes,
        source_rate=mix.sample_rate,
        channels=mix.channels,
        peak_dbfs=peak_dbfs,
        clipping_ratio=clip_ratio,
    )


def _decode_soundfile(data: bytes, kind: str, max_seconds: float) -> DecodedAudio:
    import soundfile as sf

    with sf.SoundFile(io.BytesIO(data)) as f:
        mix = _mixdown(int(f.samplerate), int(f.channels), max_seconds)
        step = max(1024, BLOCK_SAMPLES // mix.channels)
        cut_short = False
        while not mix.full:  # a header's frame count may be absent (streamed FLAC) or a lie
            try:
                block = f.read(frames=step, dtype="float32", always_2d=True)
            except RuntimeError:  # corrupt/truncated tail: keep what decoded, if anything
                if mix.frames == 0:
                    raise
                cut_short = True
                break
            if len(block) == 0:
                break
            mix.add(np.ascontiguousarray(block.T))
        if mix.full and not mix.dropped:
            try:
                mix.dropped = len(f.read(frames=1, always_2d=True)) > 0
            except RuntimeError:
                mix.dropped = True
        codec = f.subtype
    notes = [_TRUNCATED_NOTE] if cut_short else []
    if kind == "wav":
        notes.extend(_wav_size_notes(data))
    return _result(mix, kind, codec, notes)


def _wav_size_notes(data: bytes) -> list[str]:
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
        mix = _mixdown(sr, channels, max_seconds)
        # sample format only; packed, because PyAV misreads planar frames of 8+ channels (segfault)
        packed = av.AudioResampler(format="flt", layout=None, rate=sr)
        notes: list[str] = []
        frames = container.decode(stream)
        while not mix.full:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.FFmpegError:  # corrupt/truncated tail: keep what decoded, if anything
                if mix.frames == 0:
                    raise
                notes.append(_TRUNCATED_NOTE)
                break
            for out in packed.resample(frame):
                arr = np.ascontiguousarray(out.to_ndarray().reshape(-1, out.layout.nb_channels).T)
                if arr.shape[0] != channels:  # the layout changed mid-stream
                    arr = np.broadcast_to(arr.mean(axis=0, keepdims=True), (channels, arr.shape[1]))
                mix.add(arr)
        if mix.full and not mix.dropped:
            try:
                mix.dropped = next(frames, None) is not None
            except av.FFmpegError:
                mix.dropped = True
    return _result(mix, kind, codec, notes)


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
