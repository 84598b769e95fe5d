"""Output level: trim the model's edge silence, even loudness across chunks, never clip.

A :class:`Leveler` belongs to one request: it brings every chunk's active-speech RMS to one
target, letting the gain move at most ``max_step_db`` from one chunk to the next so that short
chunks cannot jump in level, then applies a smooth soft-knee limiter that keeps peaks below
0 dBFS.
"""

from __future__ import annotations

import numpy as np

TARGET_RMS_DB = -16.5  # active-speech RMS in dBFS; about -18 LUFS integrated for Kokoro speech
LIMIT_KNEE = 0.75  # the limiter is transparent below this amplitude
LIMIT_CEILING = 0.98  # and never exceeds this one (-0.18 dBFS)


def trim_silence(
    audio: np.ndarray, sample_rate: int, *, pad_s: float = 0.05, floor_db: float = -42.0
) -> np.ndarray:
    """Cut leading and trailing silence, keeping ``pad_s`` seconds around the speech.

    Samples quieter than ``floor_db`` below the chunk's peak count as silence.
    """
    start, end = speech_bounds(audio, sample_rate, pad_s=pad_s, floor_db=floor_db)
    return audio[start:end]


def speech_bounds(
    audio: np.ndarray, sample_rate: int, *, pad_s: float = 0.05, floor_db: float = -42.0
) -> tuple[int, int]:
    """The ``[start, end)`` sample range :func:`trim_silence` keeps (``(0, 0)`` for silence)."""
    if audio.size == 0:
        return 0, 0
    peak = float(np.max(np.abs(audio)))
    if peak <= 0.0:
        return 0, 0
    loud = np.flatnonzero(np.abs(audio) > peak * 10.0 ** (floor_db / 20.0))
    pad = int(pad_s * sample_rate)
    return max(0, int(loud[0]) - pad), min(audio.size, int(loud[-1]) + 1 + pad)


def active_rms(
    audio: np.ndarray, sample_rate: int, *, frame_s: float = 0.02, gate_db: float = -30.0
) -> float:
    """RMS over frames within ``gate_db`` of the loudest frame (pauses excluded); 0.0 for silence."""
    frame = max(1, int(frame_s * sample_rate))
    n = audio.size // frame
    if n == 0:
        return float(np.sqrt(np.mean(np.square(audio)))) if audio.size else 0.0
    power = np.mean(np.square(audio[: n * frame].reshape(n, frame).astype(np.float64)), axis=1)
    top = float(power.max())
    if top <= 0.0:
        return 0.0
    return float(np.sqrt(np.mean(power[power >= top * 10.0 ** (gate_db / 10.0)])))


def soft_limit(audio: np.ndarray, *, knee: float = LIMIT_KNEE, ceiling: float = LIMIT_CEILING) -> np.ndarray:
    """Identity below ``knee``; above it a tanh curve approaching ``ceiling`` (continuous slope)."""
    mag = np.abs(audio)
    over = mag > knee
    if not np.any(over):
        return audio
    span = ceiling - knee
    out = audio.copy()
    out[over] = np.sign(audio[over]) * (knee + span * np.tanh((mag[over] - knee) / span))
    return out


class Leveler:
    """Per-request loudness normaliser and limiter (not thread-safe; make one per stream).

    Parameters
    ----------
    sample_rate : int
        Audio rate in Hz.
    target_db : float
        Active-speech RMS target in dBFS.
    max_step_db : float
        Largest gain change between consecutive chunks, in dB.
    """

    def __init__(self, sample_rate: int, *, target_db: float = TARGET_RMS_DB, max_step_db: float = 3.0):
        self.sample_rate = sample_rate
        self.target = 10.0 ** (target_db / 20.0)
        self.max_step = 10.0 ** (max_step_db / 20.0)
        self.gain: float | None = None

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """Return the chunk at the common level, float32, peaks below 0 dBFS."""
        rms = active_rms(audio, self.sample_rate)
        if rms > 1e-5:
            wanted = self.target / rms
            if self.gain is not None:
                wanted = min(max(wanted, self.gain / self.max_step), self.gain * self.max_step)
            self.gain = wanted
        gain = self.gain if self.gain is not None else 1.0
        return soft_limit(audio * np.float32(gain)).astype(np.float32, copy=False)
