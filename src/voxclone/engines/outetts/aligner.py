"""Word timestamps for enrollment: faster-whisper when available, or a known transcript spread in time.

OuteTTS transcribes the reference with Whisper (``word_timestamps=True``) and cuts the DAC codes at
word boundaries. :class:`WhisperAligner` does the same with faster-whisper (CTranslate2, no torch).
:func:`spread_transcript` serves callers that already know the transcript: words are laid over the
voiced span in proportion to their length (coarser boundaries, same profile shape).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from voxclone.deps_optional import require
from voxclone.engines.outetts.speaker import Word
from voxclone.engines.outetts.text import normalize_transcript
from voxclone.errors import EngineUnavailable, Unprocessable


def voiced_span(audio: np.ndarray, sample_rate: int, *, floor_db: float = -40.0) -> tuple[float, float]:
    """First and last time (seconds) where 20 ms frame energy is within ``floor_db`` of the peak."""
    hop = max(1, int(0.02 * sample_rate))
    n = len(audio) // hop
    if n == 0:
        return 0.0, len(audio) / sample_rate
    frames = np.asarray(audio[: n * hop], dtype=np.float64).reshape(n, hop)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    on = np.flatnonzero(db > db.max() + floor_db)
    return float(on[0] * hop / sample_rate), float((on[-1] + 1) * hop / sample_rate)


def spread_transcript(*, transcript: str, audio: np.ndarray, sample_rate: int) -> tuple[str, list[Word]]:
    """Normalised transcript and word timings laid evenly (by character count) over the voiced span."""
    text = normalize_transcript(transcript)
    tokens = text.split()
    if not tokens:
        raise Unprocessable("the transcript is empty", code="empty_transcript")
    start, end = voiced_span(audio, sample_rate)
    weights = np.array([len(t) + 1 for t in tokens], dtype=np.float64)
    edges = start + (end - start) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    return text, [Word(t, float(a), float(b)) for t, a, b in zip(tokens, edges[:-1], edges[1:], strict=True)]


class WhisperAligner:
    """faster-whisper transcription with word timestamps (lazy-loaded, thread-safe).

    Parameters
    ----------
    model : str or Path
        A faster-whisper model folder, or a model name (downloaded when online, e.g. ``"large-v3-turbo"``).
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    """

    def __init__(self, *, model: str | Path, device: str = "auto"):
        self.model_ref = model
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        fw = require("faster_whisper", extra="outetts", package="faster-whisper")
        try:
            return fw.WhisperModel(str(self.model_ref), device=self.device, compute_type="default")
        except Exception as e:
            raise EngineUnavailable(
                f"faster-whisper model {self.model_ref} is unavailable ({e}); put a faster-whisper model "
                "(e.g. Systran/faster-whisper-large-v3-turbo) in MODEL_PATH/whisper "
                "or enroll with a transcript",
                code="aligner_missing",
            ) from e

    def align(
        self, audio: np.ndarray, sample_rate: int, *, language: str | None = None
    ) -> tuple[str, list[Word]]:
        """Transcript (normalised) and word timings of a 16 kHz-resampled copy of ``audio``."""
        from voxclone.audio.speaker import resample

        with self._lock:
            if self._model is None:
                self._model = self._load()
            audio16 = resample(np.asarray(audio, dtype=np.float32), sample_rate, 16000)
            segments, _info = self._model.transcribe(audio16, word_timestamps=True, language=language)
            segs = list(segments)
        words = [Word(w.word.strip(), float(w.start), float(w.end)) for s in segs for w in (s.words or [])]
        text = normalize_transcript("".join(s.text for s in segs))
        if not words:
            raise Unprocessable("no words were recognised in the reference", code="no_speech_detected")
        return text, words
