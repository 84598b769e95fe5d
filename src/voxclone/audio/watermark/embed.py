"""Embed the watermark in synthesized audio, chunk by chunk.

:class:`Marker` adds the modulated pattern (:mod:`~voxclone.audio.watermark.pattern`) to each
chunk, shaped by the chunk's own smoothed spectrum (the mark hides under the speech: where the
speech is quiet, so is the mark). The pattern is keyed to the absolute sample position, and each
chunk is marked from its own samples only, so a stream and a whole file built from the same
chunks carry exactly the same samples.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import istft, stft

from voxclone.audio.watermark.coding import Payload, encode
from voxclone.audio.watermark.pattern import BAND_HZ, STRENGTH, modulated

FRAME_S = 0.032
SMOOTH_HZ = 250.0
_EPS = 1e-9


def shaped_stft(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, int]:
    """``(freqs, stft, nperseg)`` of ``audio`` with :data:`FRAME_S` Hann frames, 50 % overlap."""
    nper = max(16, round(FRAME_S * sample_rate))
    freqs, _, spec = stft(audio, fs=sample_rate, nperseg=nper, noverlap=nper // 2, window="hann")
    return freqs, spec, nper


def smooth_magnitude(spec: np.ndarray, freqs: np.ndarray, *, smooth_hz: float = SMOOTH_HZ) -> np.ndarray:
    """|spec| averaged over ``smooth_hz`` of frequency and three frames."""
    bins = max(1, round(smooth_hz / (freqs[1] - freqs[0])))
    mag = uniform_filter1d(np.abs(spec), size=bins, axis=0, mode="nearest")
    return uniform_filter1d(mag, size=3, axis=1, mode="nearest")


class Marker:
    """Marks the chunks of one clip at ``sample_rate`` Hz with ``payload``.

    Parameters
    ----------
    sample_rate : int
        The audio's rate in Hz (at least 8 kHz, a multiple of 2 Hz).
    payload : Payload
        What the mark carries.
    strength : float
        Mark amplitude relative to the audio's smoothed spectrum in the band (0 < strength < 1).
    """

    def __init__(self, *, sample_rate: int, payload: Payload, strength: float = STRENGTH):
        self.sample_rate = sample_rate
        self.strength = strength
        self._period = modulated(sample_rate, encode(payload))

    def mark(self, chunk: np.ndarray, *, offset: int) -> np.ndarray:
        """``chunk`` (float32 mono) with the mark added; ``offset`` is the sample index of its first
        sample in the clip. Depends only on the chunk and its offset."""
        audio = np.asarray(chunk, dtype=np.float32).reshape(-1)
        n = audio.size
        if n < int(FRAME_S * self.sample_rate) or not np.any(audio):
            return audio
        period = self._period
        pattern = period[(offset + np.arange(n)) % period.size]
        freqs, spec_x, nper = shaped_stft(audio.astype(np.float64), self.sample_rate)
        _, spec_m, _ = shaped_stft(pattern, self.sample_rate)
        band = ((freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1]))[:, None]
        gain = smooth_magnitude(spec_x, freqs) / (smooth_magnitude(spec_m, freqs) + _EPS)
        _, mark = istft(self.strength * spec_m * gain * band, nperseg=nper, noverlap=nper // 2, window="hann")
        out = audio + mark[:n].astype(np.float32)
        return out
