"""Reference intake: decode an upload, check it, report its quality and prepare it for enrollment.

Error codes (all :class:`~voxclone.errors.ServiceError` subclasses):

- 415 ``unsupported_audio_format``: the bytes are not an audio container we know (e.g. a PNG named
  ``.wav``). Detection is by content; the file name and content type are ignored for decoding.
- 422 ``unreadable_audio``: empty (zero bytes), corrupt or truncated so that nothing decodes.
- 422 ``unsupported_sample_rate`` / ``unsupported_channel_count``: a valid file whose rate is
  outside 4–384 kHz or that has more than 16 channels.
- 422 ``no_speech_detected``: the VAD finds (almost) no speech.
- 422 ``reference_too_short``: under 3 s of speech once silence is trimmed.
- 422 ``multiple_speakers``: two clearly different voices (borderline cases only warn).

A clip with more than 30 s of speech is cut to its best 10–15 s window; ``notes`` says so, and
the rest of the speech is kept as ``held_out`` for the similarity self-check. The report's
``window`` names the part of the upload used, in seconds (for shorter clips: from the first to the
last speech kept).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voxclone.audio import quality as q
from voxclone.audio.decode import decode_audio
from voxclone.audio.prepare import (
    WINDOW_MAX_S,
    best_window,
    normalise_loudness,
    remove_dc,
    scale_segments,
    source_position,
    trim_and_tighten,
)
from voxclone.audio.speaker import SpeakerEncoder, resample
from voxclone.audio.speakers import check_speakers
from voxclone.audio.vad import VAD_RATE, SileroVad, Vad, load_vad
from voxclone.errors import Unprocessable

MIN_SPEECH_S = 3.0
NO_SPEECH_S = 0.5
LONG_REFERENCE_S = 30.0


@dataclass
class PreparedReference:
    """Enrollment-ready reference: float32 mono ``audio`` at ``sample_rate`` Hz plus its report.

    ``held_out`` is the upload's other speech when only a window of a long upload was kept (same
    rate and loudness as ``audio``), else ``None``.
    """

    audio: np.ndarray
    sample_rate: int
    quality: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    held_out: np.ndarray | None = None

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate


class ReferenceAnalyzer:
    """Holds the models intake needs. Create once per server (e.g. in ``app.state``) and share it
    between threads: the speaker encoder loads on first use; the ggml VAD is kept per thread.

    Pass ``encoder`` to share a speaker encoder already loaded (e.g. the engine's
    ``speaker_encoder``), so that a process loads one."""

    def __init__(
        self, *, threads: int = 1, check_speakers: bool = True, encoder: SpeakerEncoder | None = None
    ):
        self.threads = threads
        self.check_speakers = check_speakers
        self._encoder: SpeakerEncoder | None = encoder
        self._lock = threading.Lock()
        self._shared_vad = load_vad(threads=threads)
        self._local = threading.local()

    def vad(self) -> Vad:
        """The batched ONNX VAD when available (shared), else this thread's ggml Silero (stateful)."""
        if self._shared_vad is not None:
            return self._shared_vad
        vad: SileroVad | None = getattr(self._local, "vad", None)
        if vad is None:
            vad = self._local.vad = SileroVad()
        return vad

    @property
    def encoder(self) -> SpeakerEncoder:
        """The d-vector encoder: the one given, else loaded on first use (thread-safe)."""
        with self._lock:
            if self._encoder is None:
                self._encoder = SpeakerEncoder.from_package(threads=self.threads)
            return self._encoder

    def prepare(self, data: bytes, *, target_sample_rate: int) -> PreparedReference:
        """See :func:`prepare_reference`."""
        decoded = decode_audio(data)
        notes = list(decoded.notes)
        if decoded.truncated_to_cap:
            notes.append(f"Only the first {decoded.duration_s:.0f} s of the upload were used.")
        sr = decoded.sample_rate  # at most 48 kHz; the file's own rate is decoded.source_rate
        mono = remove_dc(decoded.audio, sr)
        x16 = resample(mono, sr, VAD_RATE)
        vad = self.vad().detect(x16)
        duration = len(mono) / sr
        if vad.speech_s < NO_SPEECH_S:
            raise Unprocessable(
                "No speech was detected in the recording. Upload 5-15 s of one person speaking.",
                code="no_speech_detected",
                details={"duration_s": round(duration, 2)},
            )
        if vad.speech_s < MIN_SPEECH_S:
            raise Unprocessable(
                f"Only {vad.speech_s:.1f} s of speech after trimming silence; at least {MIN_SPEECH_S:.0f} s "
                "are needed (about 10 s is ideal).",
                code="reference_too_short",
                details={"speech_duration_s": round(vad.speech_s, 2)},
            )
        report = self._measure(
            x16, vad, decoded.source_rate, duration, decoded.peak_dbfs, decoded.clipping_ratio
        )
        if self.check_speakers:
            verdict = check_speakers(self.encoder, x16, vad.segments)
            if verdict.verdict == "multiple":
                raise Unprocessable(
                    "The recording contains more than one voice. "
                    "Upload a clip with only one person speaking.",
                    code="multiple_speakers",
                    details={"similarity": round(verdict.similarity, 3)},
                )
            if verdict.verdict == "possible":
                report.add_warning("multiple_speakers")
        audio = resample(mono, sr, target_sample_rate)
        source_segments = scale_segments(vad.segments, VAD_RATE, target_sample_rate, len(audio))
        audio, segments, shortened = trim_and_tighten(audio, target_sample_rate, source_segments)
        if shortened:
            notes.append(f"Shortened {shortened} long pause(s).")
        a, b = 0, len(audio)
        held_out = None
        if len(audio) / target_sample_rate > LONG_REFERENCE_S:
            # no pause to cut at (one long breathless stretch): take the first 15 s
            fallback = (0, int(WINDOW_MAX_S * target_sample_rate))
            a, b = best_window(audio, target_sample_rate, segments) or fallback
            held_out = normalise_loudness(np.concatenate([audio[:a], audio[b:]]), target_sample_rate)
        start, end = (source_position(i, source_segments, segments) / target_sample_rate for i in (a, b))
        report_dict = report.to_dict()
        report_dict["window"] = {"start_s": round(start, 2), "end_s": round(end, 2)}
        if held_out is not None:
            notes.append(
                f"The reference is {len(audio) / target_sample_rate:.0f} s long; the best "
                f"{(b - a) / target_sample_rate:.1f} s window ({start:.1f}-{end:.1f} s of the upload) "
                "was used."
            )
        audio = normalise_loudness(audio[a:b], target_sample_rate)
        return PreparedReference(audio, target_sample_rate, report_dict, notes, held_out)

    @staticmethod
    def _measure(
        x16: np.ndarray, vad: Any, sr: int, duration: float, peak_dbfs: float, clip_ratio: float
    ) -> q.QualityReport:
        import pyloudnorm

        lufs: float | None = None
        if len(x16) >= int(0.5 * VAD_RATE):
            v = float(pyloudnorm.Meter(VAD_RATE).integrated_loudness(x16.astype(np.float64)))
            lufs = v if np.isfinite(v) else None
        snr = q.estimate_snr(x16, vad)
        pauses = vad.pauses()
        longest = max((e - s for s, e in pauses), default=0) / VAD_RATE
        report = q.QualityReport(
            duration_s=duration,
            speech_s=vad.speech_s,
            speech_ratio=vad.speech_s / max(duration, 1e-9),
            peak_dbfs=peak_dbfs,
            clipping_ratio=clip_ratio,
            loudness_lufs=lufs,
            snr_db=snr,
            rt60_s=q.estimate_rt60(x16, vad),
            sample_rate=sr,
            bandwidth_hz=q.estimate_bandwidth(x16, sr, vad),
            longest_pause_s=longest,
            music_score=q.music_score(x16),
        )
        if clip_ratio >= q.CLIP_WARN_RATIO:
            report.add_warning("clipping")
        if peak_dbfs < q.QUIET_PEAK_DBFS or (lufs is not None and lufs < q.QUIET_LUFS):
            report.add_warning("too_quiet")
        if snr is not None and snr < q.NOISY_SNR_DB:
            report.add_warning("noisy")
        if report.rt60_s is not None and report.rt60_s > q.REVERB_RT60_S:
            report.add_warning("reverberant")
        if vad.speech_s < q.SHORT_SPEECH_S:
            report.add_warning("short_reference")
        if longest > q.LONG_PAUSE_S or report.speech_ratio < q.LOW_SPEECH_RATIO:
            report.add_warning("long_silences")
        narrow = report.bandwidth_hz is not None and report.bandwidth_hz < q.LOW_BANDWIDTH_HZ
        if sr < q.LOW_RATE_HZ or narrow:
            report.add_warning("low_sample_rate")
        if report.music_score > q.MUSIC_SCORE:
            report.add_warning("music_or_noise")
        return report


def prepare_reference(
    data: bytes,
    *,
    filename: str | None,
    content_type: str | None,
    target_sample_rate: int,
    analyzer: ReferenceAnalyzer | None = None,
) -> PreparedReference:
    """Decode, check and prepare an uploaded reference clip.

    Parameters
    ----------
    data : bytes
        The uploaded file (the server caps it at 10 MB).
    filename, content_type : str or None
        As uploaded; informative only (decoding goes by content).
    target_sample_rate : int
        Rate of the prepared audio in Hz (the engine's, e.g. 24000).
    analyzer : ReferenceAnalyzer, optional
        Shared models; pass one kept for the server's lifetime to avoid reloading the speaker
        encoder (~1-2 s) on every call.

    Returns
    -------
    PreparedReference
        Trimmed, pause-shortened, DC-free, loudness-normalised mono float32 audio and its report.

    Raises
    ------
    UnsupportedMediaType
        ``unsupported_audio_format`` (415).
    Unprocessable
        ``unreadable_audio``, ``unsupported_sample_rate``, ``unsupported_channel_count``,
        ``no_speech_detected``, ``reference_too_short`` or ``multiple_speakers`` (422).
    """
    del filename, content_type  # decoding is by content; names can lie
    return (analyzer or ReferenceAnalyzer()).prepare(data, target_sample_rate=target_sample_rate)
