"""Per-word and global voice features of an OuteTTS speaker profile, and loudness normalisation.

NumPy ports of ``outetts.version.v3.audio_processor.Features`` (float32, same framing, same
rounding) and ``outetts.dac.interface.process_audio_tensor``. Each feature is scaled to an
integer 0–100: RMS energy, spectral centroid relative to Nyquist, and mean autocorrelation pitch
between 75 and 600 Hz.
"""

from __future__ import annotations

import numpy as np

TARGET_LUFS = -18.0
PEAK_LIMIT_DB = -1.0
_MIN_F0 = 75.0
_MAX_F0 = 600.0
_FRAME = 400
_HOP = 160


def _mean_pitch(audio: np.ndarray, sample_rate: int) -> float:
    """Mean autocorrelation pitch normalised to 0–1 (unvoiced frames count as 75 Hz)."""
    n = audio.shape[-1]
    pad = (_FRAME - (n % _HOP)) % _HOP
    x = np.pad(audio, (0, pad))
    if x.shape[-1] < _FRAME:
        return 0.0
    frames = np.lib.stride_tricks.sliding_window_view(x, _FRAME)[::_HOP]
    k = np.arange(_FRAME, dtype=np.float32)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * k / _FRAME)).astype(np.float32)  # periodic Hann
    spec = np.fft.rfft(frames * window, n=2 * _FRAME, axis=1)
    power = (spec.real.astype(np.float32) ** 2 + spec.imag.astype(np.float32) ** 2).astype(np.float32)
    ac = np.fft.irfft(power, axis=1)[:, :_FRAME].astype(np.float32)
    lo = max(1, int(sample_rate / _MAX_F0))
    hi = min(_FRAME, int(sample_rate / _MIN_F0))
    rel = ac[:, lo:hi]
    peak_idx = rel.argmax(axis=1) + lo
    peak_val = rel.max(axis=1)
    idx = np.clip(peak_idx, 1, _FRAME - 2)
    rows = np.arange(ac.shape[0])
    a, b, c = ac[rows, idx - 1], ac[rows, idx], ac[rows, idx + 1]
    delta = np.float32(0.5) * (a - c) / (a - 2 * b + c + np.float32(1e-8))
    delta = np.where((peak_idx > 0) & (peak_idx < _FRAME - 1), delta, np.float32(0.0))
    period = ((peak_idx + delta) / sample_rate).astype(np.float32)
    with np.errstate(divide="ignore"):
        pitch = np.where(period > 0, np.float32(1.0) / period, np.float32(0.0)).astype(np.float32)
    voiced = (peak_val / (ac[:, 0] + np.float32(1e-8))) > 0.3
    pitch = np.clip(np.where(voiced, pitch, np.float32(0.0)), _MIN_F0, _MAX_F0).astype(np.float32)
    mean = np.float32(pitch.mean(dtype=np.float32))
    return float(np.clip((mean - np.float32(_MIN_F0)) / np.float32(_MAX_F0 - _MIN_F0), 0.0, 1.0))


def extract_features(audio: np.ndarray, sample_rate: int) -> dict[str, int]:
    """Energy, spectral centroid and pitch of a mono clip, each an integer 0–100.

    Parameters
    ----------
    audio : numpy.ndarray
        float mono samples in [-1, 1].
    sample_rate : int
        Hz (24,000 for OuteTTS).

    Returns
    -------
    dict
        ``{"energy", "spectral_centroid", "pitch"}``; all 0 for an empty or non-finite clip.
    """
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if x.size == 0 or not np.isfinite(x).all():
        return {"energy": 0, "spectral_centroid": 0, "pitch": 0}
    energy = float(np.sqrt(np.mean(x * x, dtype=np.float32)))
    spec = np.abs(np.fft.rfft(x)).astype(np.float32)
    freqs = np.linspace(0, sample_rate / 2, spec.shape[-1], dtype=np.float32)
    centroid = np.sum(freqs * spec, dtype=np.float32) / (np.sum(spec, dtype=np.float32) + np.float32(1e-10))
    values = {
        "energy": energy,
        "spectral_centroid": float(np.float32(centroid) / np.float32(sample_rate / 2)),
        "pitch": _mean_pitch(x, sample_rate),
    }
    return {k: round(v * 100) for k, v in values.items()}


def normalize_loudness(
    audio: np.ndarray, sample_rate: int, *, target_lufs: float = TARGET_LUFS
) -> np.ndarray:
    """Scale to ``target_lufs`` integrated loudness with a −1 dBFS peak limit (as OuteTTS before DAC).

    Silent input is returned unchanged. Output is float32.
    """
    import pyloudnorm as pyln

    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    n = x.size
    min_samples = int(0.4 * sample_rate)
    padded = np.pad(x, (0, max(0, min_samples - n)))
    with np.errstate(divide="ignore"):
        loudness = pyln.Meter(sample_rate, block_size=0.4).integrated_loudness(padded)
    if not np.isfinite(loudness):
        return x.astype(np.float32)
    gain = 10.0 ** ((target_lufs - loudness) / 20.0)
    out = padded * gain
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    limit = 10 ** (PEAK_LIMIT_DB / 20)
    if peak > limit:
        out = out * (limit / peak)
    return out[:n].astype(np.float32)
