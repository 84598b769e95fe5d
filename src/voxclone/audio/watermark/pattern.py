"""The watermark's fixed pattern: band-limited noise keyed to absolute time, split into slots.

The pattern is a periodic noise of :data:`PERIOD_S` seconds whose spectrum is confined to
:data:`BAND_HZ` (it survives 8 kHz resampling and speech codecs). It is defined by Fourier
coefficients drawn from a fixed seed, so at every sample rate it is the same continuous signal:
an embedder at 24 kHz and a detector at 16 kHz see exactly the same waveform. Each period holds
:data:`~voxclone.audio.watermark.coding.CODED_BITS` equal slots; slot ``k`` carries coded bit
``k`` as the sign of the noise. Position 0 of the pattern is the first sample of a clip.
"""

from __future__ import annotations

import numpy as np

from voxclone.audio.watermark.coding import CODED_BITS

PERIOD_S = 1.5
BAND_HZ = (500.0, 3500.0)
STRENGTH = 0.2
"""Amplitude of the mark relative to the audio's smoothed spectrum in the band: -14 dB there,
about 21 dB below the speech overall (measured on Kokoro speech)."""
_SEED = 0x766F78636C6F6E65  # "voxclone"


def period_samples(sample_rate: int) -> int:
    """Samples in one period at ``sample_rate`` Hz (``PERIOD_S * sample_rate``, an integer for
    every rate that is a multiple of 2 Hz)."""
    n = PERIOD_S * sample_rate
    if n != int(n):
        raise ValueError(f"sample rate {sample_rate} Hz gives no whole period of {PERIOD_S} s")
    return int(n)


def noise(sample_rate: int) -> np.ndarray:
    """One period of the pattern's noise at ``sample_rate`` Hz (float64, unit RMS in the band)."""
    n = period_samples(sample_rate)
    lo, hi = int(np.ceil(BAND_HZ[0] * PERIOD_S)), int(np.floor(BAND_HZ[1] * PERIOD_S))
    if hi >= n // 2:
        raise ValueError(f"sample rate {sample_rate} Hz is too low for the watermark band")
    rng = np.random.default_rng(_SEED)
    coeffs = rng.standard_normal(hi - lo + 1) + 1j * rng.standard_normal(hi - lo + 1)
    spectrum = np.zeros(n // 2 + 1, dtype=np.complex128)
    spectrum[lo : hi + 1] = coeffs
    # scale so the continuous signal has unit RMS whatever the rate
    return np.fft.irfft(spectrum, n=n) * n / np.sqrt(2 * np.sum(np.abs(coeffs) ** 2))


def slots(sample_rate: int) -> np.ndarray:
    """Slot index (0 … CODED_BITS-1) of each sample of one period."""
    n = period_samples(sample_rate)
    return (np.arange(n) * CODED_BITS) // n


def modulated(sample_rate: int, coded: np.ndarray) -> np.ndarray:
    """One period of the mark before shaping: the noise with slot ``k``'s sign set by bit ``k``."""
    signs = 1.0 - 2.0 * np.asarray(coded, dtype=np.float64)
    return noise(sample_rate) * signs[slots(sample_rate)]
