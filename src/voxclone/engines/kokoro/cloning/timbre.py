"""Post-synthesis timbre and pitch stage toward the reference speaker.

Profiles enrolled with the content-matched transfer (``knn_*`` tensors, see
:mod:`~voxclone.engines.kokoro.cloning.envelope`) use this module only for pitch/formant mapping,
when asked. For older profiles only the envelope correction ``eq`` is applied, as a
linear-phase FIR filter: cheap, artefact-free, and it raised d-vector likeness on held-out
LibriSpeech speakers (0.476 → 0.545 cosine, 8 ``singles`` speakers). When the profile asks for a
pitch change or a formant warp, the chunk is instead analysed with WORLD (DIO/StoneMask pitch,
CheapTrick envelope, D4C aperiodicity) and re-synthesised with

- its log-F0 mapped from the style's expected statistics to the reference's (mean and spread),
- its spectral envelope frequency-warped by ``warp`` (formant scaling; > 1 raises formants),
- a smooth envelope correction (``eq``, natural-log power per mel band up to 8 kHz, held above).

The stage is chunk-local and stateless: it reads only the chunk and the profile, so streamed
chunks are processed exactly like whole-file ones. Profiles without these tensors pass unchanged.
"""

from __future__ import annotations

import numpy as np

from voxclone.engines.kokoro.cloning.features import F0_CEIL, F0_FLOOR, band_edges, world

FRAME_PERIOD_MS = 5.0
MIN_SAMPLES = 2048  # chunks shorter than this (~85 ms at 24 kHz) are returned unchanged
FIR_TAPS = 511


def post_tensors(profile_tensors: dict[str, np.ndarray]) -> tuple[np.ndarray, float, np.ndarray] | None:
    """``(f0_map [4], warp, eq [bands])`` from a profile's tensors, or ``None`` when absent."""
    f0_map = profile_tensors.get("f0_map")
    if f0_map is None and "eq" not in profile_tensors:
        return None
    if f0_map is None:
        f0_map = np.array([0.0, 1.0, 0.0, 1.0])
    warp = float(np.asarray(profile_tensors.get("warp", np.ones(1))).ravel()[0])
    eq = np.asarray(profile_tensors.get("eq", np.zeros(len(band_edges()))), np.float64).ravel()
    return np.asarray(f0_map, np.float64).ravel(), warp, eq


def convert(
    audio: np.ndarray, sample_rate: int, f0_map: np.ndarray, warp: float, eq: np.ndarray
) -> np.ndarray:
    """Re-synthesise ``audio`` with mapped pitch, warped and equalised envelope.

    Parameters
    ----------
    audio : numpy.ndarray
        float32 mono chunk in [-1, 1].
    sample_rate : int
        Its rate in Hz.
    f0_map : numpy.ndarray
        ``[src_mean, src_std, dst_mean, dst_std]`` of natural-log F0.
    warp : float
        Envelope frequency scale (1.0 = unchanged), 0.8–1.25.
    eq : numpy.ndarray
        Natural-log power gain at :func:`~voxclone.engines.kokoro.cloning.features.band_edges`.

    Returns
    -------
    numpy.ndarray
        float32 audio of the same length, peak at most 0.99.
    """
    x = np.asarray(audio, np.float64)
    if x.size < MIN_SAMPLES or not np.any(x):
        return np.asarray(audio, np.float32)
    src_m, src_s, dst_m, dst_s = (float(v) for v in f0_map[:4])
    if abs(dst_m - src_m) < 1e-3 and abs(dst_s - src_s) < 1e-3 and abs(warp - 1.0) < 1e-3:
        return limit_peak(equalise(x, sample_rate, eq))
    pw = world()
    f0, t = pw.dio(x, sample_rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_PERIOD_MS)
    f0 = pw.stonemask(x, f0, t, sample_rate)
    sp = pw.cheaptrick(x, f0, t, sample_rate)
    ap = pw.d4c(x, f0, t, sample_rate)

    voiced = f0 > 0
    ratio = float(np.clip(dst_s / max(src_s, 1e-3), 0.5, 2.0))
    new_f0 = np.zeros_like(f0)
    new_f0[voiced] = np.exp((np.log(f0[voiced]) - src_m) * ratio + dst_m)
    new_f0 = np.clip(new_f0, 0.0, 800.0)

    freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
    log_sp = np.log(np.maximum(sp, 1e-16))
    if abs(warp - 1.0) > 1e-3:
        src_freqs = np.minimum(freqs / warp, freqs[-1])
        log_sp = np.stack([np.interp(src_freqs, freqs, row) for row in log_sp])
    if eq.size and np.any(eq):
        gain = np.interp(freqs, band_edges(len(eq)), eq)
        log_sp = log_sp + gain[None, :]
    y = pw.synthesize(new_f0, np.exp(log_sp), ap, sample_rate, FRAME_PERIOD_MS)
    out = np.zeros(x.size, np.float64)
    n = min(x.size, y.size)
    out[:n] = y[:n]
    return limit_peak(out)


def equalise(x: np.ndarray, sample_rate: int, eq: np.ndarray) -> np.ndarray:
    """Filter ``x`` with the smooth gain ``exp(eq / 2)`` (eq in log power at the band centres).

    Zero-phase FIR (``FIR_TAPS`` taps, Hann-windowed), same length as the input.
    """
    from scipy.signal import oaconvolve

    if not eq.size or not np.any(eq):
        return x
    n_bins = FIR_TAPS // 2 + 1
    freqs = np.linspace(0.0, sample_rate / 2, n_bins)
    gain = np.exp(np.interp(freqs, band_edges(len(eq)), eq) / 2.0)
    h = np.fft.irfft(gain, FIR_TAPS)
    h = np.roll(h, FIR_TAPS // 2) * np.hanning(FIR_TAPS)
    out: np.ndarray = oaconvolve(x, h, mode="same")
    return out


def limit_peak(out: np.ndarray) -> np.ndarray:
    """float32 copy of ``out`` scaled down so that its peak is at most 0.99."""
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0.99:
        out = out * (0.99 / peak)
    return np.asarray(out, np.float32)
