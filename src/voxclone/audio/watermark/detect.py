"""Find the watermark in audio: whiten, fold onto the pattern's period, search every alignment.

The audio is resampled to :data:`DETECT_RATE`, whitened in the band (each STFT bin divided by its
magnitude, weighted by its share above the noise floor; quiet frames dropped), cut into windows of
:data:`WINDOW_S` seconds and folded onto one period. For each of the pattern's slots, a circular
cross-correlation gives the correlation at every alignment; divided by its standard deviation
without a mark (from the audio power under the slot at that alignment, so pauses and partial
periods do not inflate it) it is ~N(0, 1) without a mark.
The statistic at an alignment is the sum of squares over slots (~chi-square with ``CODED_BITS``
degrees of freedom without a mark); its maximum over alignments gives a p-value (corrected for the
alignments and windows searched). The payload is Viterbi-decoded at the best alignment and kept only
when its CRC matches. Works on any excerpt of at least :data:`MIN_SECONDS` (3 s is plenty).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np
import scipy.fft
from scipy.signal import istft, resample_poly
from scipy.stats import chi2

from voxclone.audio.watermark.coding import CODED_BITS, Payload, decode
from voxclone.audio.watermark.embed import shaped_stft, smooth_magnitude
from voxclone.audio.watermark.pattern import BAND_HZ, noise, period_samples, slots

DETECT_RATE = 16000
WINDOW_S = 3.0
MAX_WINDOWS = 20
MIN_SECONDS = 1.0
P_THRESHOLD = 1e-5
"""Largest corrected p-value called watermarked (the false-positive budget is 1e-3)."""
P_WITH_PAYLOAD = 1e-2
"""Largest corrected p-value called watermarked when a payload with a valid CRC was also found."""
GATE_DB = -35.0
NOISE_PERCENTILE = 5.0
WHITEN_HZ = 31.25


@dataclass(frozen=True)
class Detection:
    """The detector's answer: ``confidence`` is 1 - p-value (0–1); ``payload`` is ``None`` unless its
    CRC matched; ``offset_s`` where the clip's pattern starts relative to the audio (mod the period)."""

    watermarked: bool
    confidence: float
    payload: Payload | None
    p_value: float
    offset_s: float | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "watermarked": self.watermarked,
            "confidence": round(self.confidence, 6),
            "payload": self.payload.to_json() if self.payload else None,
        }


class Detector:
    """Holds the pattern's spectra at :data:`DETECT_RATE` (build one per batch of detections)."""

    def __init__(self) -> None:
        self.period = period_samples(DETECT_RATE)
        slot = slots(DETECT_RATE)
        base = noise(DETECT_RATE)
        per_slot = np.zeros((CODED_BITS, self.period))
        per_slot[slot, np.arange(self.period)] = base
        self._slot_spectra = scipy.fft.rfft(per_slot, axis=1).astype(np.complex64)
        edges = np.flatnonzero(np.diff(slot)) + 1
        self._slot_start = np.concatenate([[0], edges])
        self._slot_len = np.diff(np.concatenate([self._slot_start, [self.period]]))

    def detect(self, audio: np.ndarray, sample_rate: int) -> Detection:
        """Look for the mark in ``audio`` (mono float, any rate ≥ 8 kHz, at most ~60 s examined)."""
        x = _resample(np.asarray(audio, dtype=np.float64).reshape(-1), sample_rate)
        x = x[: int(WINDOW_S * MAX_WINDOWS * DETECT_RATE)]
        if x.size < MIN_SECONDS * DETECT_RATE:
            return Detection(watermarked=False, confidence=0.0, payload=None, p_value=1.0)
        white = whiten(x)
        win = int(WINDOW_S * DETECT_RATE)
        folds: list[tuple[np.ndarray, np.ndarray]] = []
        for start in range(0, white.size, win):
            fold = self._fold(white[start : start + win], start)
            if fold is not None:
                folds.append(fold)
        if not folds:
            return Detection(watermarked=False, confidence=0.0, payload=None, p_value=1.0)
        total = (np.sum([f[0] for f in folds], axis=0), np.sum([f[1] for f in folds], axis=0))
        candidates: list[tuple[np.ndarray, np.ndarray]] = folds if len(folds) == 1 else [*folds, total]
        p_value, soft, lag = 2.0, np.zeros(CODED_BITS), 0
        for folded, power in candidates:
            z = self._scores(folded, power)
            stat = np.einsum("kt,kt->t", z, z)
            best = int(np.argmax(stat))
            p = float(chi2.sf(stat[best], CODED_BITS)) * self.period * len(candidates)
            if p < p_value:
                p_value, soft, lag = p, z[:, best].astype(np.float64), best
        p_value = min(p_value, 1.0)
        payload = decode(soft) or decode(-soft)  # a polarity flip inverts every bit
        watermarked = p_value <= P_THRESHOLD or (payload is not None and p_value <= P_WITH_PAYLOAD)
        return Detection(
            watermarked=watermarked,
            confidence=1.0 - p_value,
            payload=payload if watermarked else None,
            p_value=p_value,
            offset_s=lag / DETECT_RATE,
        )

    def _fold(self, segment: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``segment`` (starting at ``start`` samples in the audio) and its square, each summed
        onto one period."""
        if segment.size < MIN_SECONDS * DETECT_RATE or not np.any(segment):
            return None
        where = (start + np.arange(segment.size)) % self.period
        folded = np.bincount(where, weights=segment, minlength=self.period)
        power = np.bincount(where, weights=segment**2, minlength=self.period)
        return folded, power

    def _scores(self, folded: np.ndarray, power: np.ndarray) -> np.ndarray:
        """(slots, alignments): correlation of each slot's noise with the folded audio, where the
        audio's sample ``n`` sits at pattern position ``n + lag``, divided by its standard deviation
        without a mark (from the audio power the slot sees at that alignment): ~N(0, 1) unmarked."""
        spec = np.conj(scipy.fft.rfft(folded)).astype(np.complex64)
        corr = scipy.fft.irfft(self._slot_spectra * spec[None, :], n=self.period, axis=1)
        # audio power under slot k at lag t: sum of power[(q - t) % P] over the slot's positions q
        cum = np.concatenate([[0.0], np.cumsum(np.concatenate([power, power]))])
        starts = np.arange(self.period)
        backwards = (-starts) % self.period
        box = {n: (cum[starts + n] - cum[starts])[backwards].astype(np.float32) for n in set(self._slot_len)}
        seen = np.stack([np.roll(box[n], s) for s, n in zip(self._slot_start, self._slot_len, strict=True)])
        live = seen > np.float32(1e-9 * max(float(seen.max()), 1e-30))
        scale = np.zeros_like(seen)
        np.divide(1.0, np.sqrt(seen, where=live, out=scale), where=live, out=scale)
        corr *= scale
        corr /= np.float32(np.sqrt(np.sum(np.square(corr)) / max(int(live.sum()), 1)) + 1e-30)
        return corr


def _resample(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate == DETECT_RATE:
        return audio
    g = gcd(int(sample_rate), DETECT_RATE)
    return resample_poly(audio, DETECT_RATE // g, int(sample_rate) // g)


def whiten(audio: np.ndarray) -> np.ndarray:
    """``audio`` (at :data:`DETECT_RATE`) whitened in the band, nothing outside it.

    Each STFT bin is divided by the smoothed magnitude around it and weighted by its estimated
    signal share ``1 - noise / power`` (noise: a low percentile of the bin's power over time),
    so bins drowned in noise count less; frames more than ``GATE_DB`` below the loud ones are dropped.
    """
    freqs, spec, nper = shaped_stft(audio, DETECT_RATE)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    mag = smooth_magnitude(spec, freqs, smooth_hz=WHITEN_HZ)
    power = mag**2
    floor = np.percentile(power, NOISE_PERCENTILE, axis=1, keepdims=True)
    share = np.clip(1.0 - floor / (power + 1e-24), 0.0, 1.0)
    flat = np.where(band[:, None], spec * share / (mag + 1e-12), 0.0)
    energy = np.sum(np.abs(spec[band]) ** 2, axis=0)
    loud = np.percentile(energy, 95) if energy.size else 0.0
    flat[:, energy < loud * 10 ** (GATE_DB / 10)] = 0.0
    _, out = istft(flat, nperseg=nper, noverlap=nper // 2, window="hann")
    return np.asarray(out[: audio.size], dtype=np.float64)
