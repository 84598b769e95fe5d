"""Voice statistics shared by enrollment, the post-synthesis stage and the training tools.

Everything here is torch-free and deterministic: pitch comes from WORLD's DIO + StoneMask
(``pyworld``), the spectral envelope from WORLD's CheapTrick, both at 16 kHz so that references
recorded at any rate (telephone 8 kHz excepted) give comparable numbers.
"""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np

from voxclone.audio.speaker import resample
from voxclone.deps_optional import require

ANALYSIS_RATE = 16000
FRAME_PERIOD_MS = 10.0
F0_FLOOR = 60.0
F0_CEIL = 500.0
N_BANDS = 48  # mel-spaced envelope bands between 0 and 8 kHz
ENV_FFT = 1024  # CheapTrick FFT size at 16 kHz
MAX_ENVELOPE_FRAMES = 300
HIGHPASS_HZ = 80.0
DIO_ALLOWED_RANGE = 0.3


def world() -> ModuleType:
    """Import ``pyworld`` (from the ``pyworld-prebuilt`` dependency).

    An older ``pyworld`` (0.3.5) installed over it imports ``pkg_resources``: that warns on
    setuptools < 81 (silenced here) and fails on 81 and newer (:class:`MissingDependency`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return require("pyworld", extra=None, package="pyworld-prebuilt")


def band_edges(n_bands: int = N_BANDS, max_hz: float = ANALYSIS_RATE / 2) -> np.ndarray:
    """Centre frequencies (Hz) of ``n_bands`` mel-spaced bands from 50 Hz to ``max_hz``."""
    mel = np.linspace(hz_to_mel(50.0), hz_to_mel(max_hz * 0.97), n_bands)
    return mel_to_hz(mel)


def hz_to_mel(hz: float | np.ndarray) -> np.ndarray:
    """HTK mel scale of ``hz`` (Hz)."""
    return np.asarray(2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0))


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Hz of HTK ``mel`` values (inverse of :func:`hz_to_mel`)."""
    return np.asarray(700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0))


def pitch(audio16k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WORLD F0 track of 16 kHz audio: ``(f0 Hz per 10 ms frame, 0 when unvoiced; frame times s)``.

    Mains hum and rumble are removed first (80 Hz high-pass): DIO otherwise locks onto a 50/60 Hz
    hum in some recordings and reports it as the voice's pitch.
    """
    from scipy.signal import butter, sosfiltfilt

    pw = world()
    sos = butter(4, HIGHPASS_HZ, "highpass", fs=ANALYSIS_RATE, output="sos")
    x = np.ascontiguousarray(sosfiltfilt(sos, np.asarray(audio16k, np.float64)))
    f0, t = pw.dio(
        x,
        ANALYSIS_RATE,
        f0_floor=F0_FLOOR,
        f0_ceil=F0_CEIL,
        frame_period=FRAME_PERIOD_MS,
        allowed_range=DIO_ALLOWED_RANGE,
    )
    f0 = pw.stonemask(x, f0, t, ANALYSIS_RATE)
    return np.asarray(f0), np.asarray(t)


def analyse(audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """Pitch and timbre statistics of one utterance.

    Parameters
    ----------
    audio : numpy.ndarray
        Mono float speech in [-1, 1].
    sample_rate : int
        Its rate in Hz (8 kHz or more).

    Returns
    -------
    dict
        ``log_f0`` float32 ``[2]``: median and robust spread (IQR / 1.349) of natural-log F0 (Hz)
        over voiced frames (``[log 120, 0.15]`` when nothing is voiced); ``envelope`` float32 ``[N_BANDS]``:
        mean log-power spectral envelope (natural log) of voiced frames at :func:`band_edges`,
        with its mean removed (shape only, level-free); ``voiced`` float32 ``[1]``: voiced fraction.
    """
    pw = world()
    x16 = resample(np.asarray(audio, np.float32), sample_rate, ANALYSIS_RATE).astype(np.float64)
    f0, t = pitch(x16)
    voiced = f0 > 0
    if voiced.sum() >= 5:
        lf = np.log(f0[voiced])
        q1, med, q3 = np.percentile(lf, [25, 50, 75])
        log_f0 = np.array([med, max((q3 - q1) / 1.349, 0.02)], np.float32)  # robust to octave slips
    else:
        log_f0 = np.array([np.log(120.0), 0.15], np.float32)
    sel = np.flatnonzero(voiced)
    if sel.size < 5:
        sel = np.arange(len(f0))
    if sel.size > MAX_ENVELOPE_FRAMES:  # evenly spaced subset: same mean, bounded cost
        sel = sel[np.linspace(0, sel.size - 1, MAX_ENVELOPE_FRAMES).round().astype(int)]
    f0_env = np.where(voiced, f0, 120.0)
    sp = pw.cheaptrick(x16, f0_env[sel], t[sel], ANALYSIS_RATE, fft_size=ENV_FFT)
    env = log_envelope_bands(sp, ANALYSIS_RATE)
    return {
        "log_f0": log_f0,
        "envelope": env.astype(np.float32),
        "voiced": np.array([voiced.mean() if len(voiced) else 0.0], np.float32),
    }


def log_envelope_bands(sp: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mean natural-log envelope of WORLD spectra ``sp [frames, bins]`` sampled at the band centres.

    The mean over bands is removed, so only the envelope's shape remains.
    """
    freqs = np.linspace(0.0, sample_rate / 2, sp.shape[1])
    mean_log = np.log(np.maximum(sp, 1e-16)).mean(axis=0)
    env = np.interp(band_edges(), freqs, mean_log)
    out: np.ndarray = env - env.mean()
    return out
