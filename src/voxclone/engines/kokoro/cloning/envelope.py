"""Time-varying, content-matched spectral-envelope transfer (a torch-free take on kNN-VC).

Enrollment keeps the reference's frames (:func:`reference_frames`): for every 10 ms frame that is
not silence, a speaker-normalised matching key (mel-cepstrum c1..c19 minus the reference's mean,
divided by its spread, stacked with the same of the frames 20 ms before and after), a voicing
flag and the frame's smoothed log-mel envelope shape.

At synthesis (:func:`transfer`), each chunk gets the same analysis; every frame is matched to its
``k`` nearest reference frames of the same voicing class (keys normalised by the chunk's own
statistics, so the match is about content, not voice), the target envelope is their mean, and the
gain ``target - source`` (smoothed in time, clipped, scaled by a strength) is applied as a
short-time Fourier gain at the output rate. Kokoro's phase and excitation are kept: nothing is
re-synthesised. The stage reads only the chunk and the profile, so it is chunk-local and
deterministic, and it is language-blind. Cost: about 1.5 % of real time on one core.

Settings (k, strength, clip, smoothing, lifter, key context) were chosen on the dev set; what was
measured and dropped is in ``docs/cloning.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxclone.audio.speaker import resample
from voxclone.engines.kokoro.cloning.features import ANALYSIS_RATE, hz_to_mel, mel_to_hz

RATE = ANALYSIS_RATE  # analysis rate, Hz (16 kHz, as the other voice statistics)
N_FFT = 512
WIN = 400  # 25 ms Hann
HOP = 160  # 10 ms
N_MELS = 60
F_MIN = 50.0
F_MAX = 7800.0
N_ENV_CEPS = 30  # cepstral lifter of the envelope (c0..c29 kept)
KEY_CEPS = slice(1, 20)  # matching key: c1..c19
KEY_CONTEXT = 2  # the keys of frames -KEY_CONTEXT and +KEY_CONTEXT are stacked with the frame's
SILENCE_DB = 30.0  # frames this far below the 95th-percentile frame power are silence
VOICED_CORR = 0.6  # normalised autocorrelation peak above which a frame counts as voiced
F0_RANGE = (60.0, 450.0)
MAX_REFERENCE_FRAMES = 1500
MIN_CHUNK_FRAMES = 20  # chunks with fewer sounding frames are left unchanged

# synthesis side (output rate): Hann STFT, 75 % overlap
STFT_SECONDS = 0.032
TAPER_HZ = (7500.0, 9000.0)  # the gain fades to 0 between these (references rarely carry more)


@dataclass(frozen=True)
class TransferSettings:
    """Strength and shape of the transfer.

    Attributes
    ----------
    strength : float
        Fraction of the log-envelope difference applied (0 = off, 1 = full).
    k : int
        Reference frames averaged per source frame.
    limit : float
        Clip of the gain, natural-log power (3.0 ≈ ±13 dB).
    smooth_frames : int
        Moving-average length of the gain over time, in 10 ms frames (odd).
    """

    strength: float = 1.0
    k: int = 2
    limit: float = 3.0
    smooth_frames: int = 5


DEFAULT_SETTINGS = TransferSettings()


def _mel_matrix() -> np.ndarray:
    """Triangular mel filterbank ``[N_MELS, N_FFT // 2 + 1]`` (HTK mel, unit peak)."""
    mel = np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), N_MELS + 2)
    hz = mel_to_hz(mel)
    freqs = np.linspace(0.0, RATE / 2, N_FFT // 2 + 1)
    lo, ce, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    up = (freqs[None, :] - lo) / (ce - lo)
    down = (hi - freqs[None, :]) / (hi - ce)
    return np.asarray(np.maximum(0.0, np.minimum(up, down)), np.float64)


def mel_centres() -> np.ndarray:
    """Centre frequencies (Hz) of the analysis mel bands."""
    return mel_to_hz(np.linspace(hz_to_mel(F_MIN), hz_to_mel(F_MAX), N_MELS + 2))[1:-1]


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix ``[n, n]`` (rows are cepstral basis vectors)."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.asarray(np.cos(np.pi * k * (2 * i + 1) / (2 * n)) * np.sqrt(2.0 / n), np.float64)
    m[0] /= np.sqrt(2.0)
    return m


def _window() -> np.ndarray:
    window = np.zeros(N_FFT)
    start = (N_FFT - WIN) // 2
    window[start : start + WIN] = np.hanning(WIN + 2)[1:-1]
    return window


def _window_autocorrelation() -> np.ndarray:
    """The analysis window's normalised autocorrelation, floored at 0.05 (voicing's lag weights)."""
    ac = np.fft.irfft(np.abs(np.fft.rfft(_window())) ** 2)
    return np.asarray(np.maximum(ac / ac[0], 0.05), np.float64)


def _constant(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# constant analysis matrices (computed once at import, read-only)
_MEL = _constant(_mel_matrix())
_DCT = _constant(_dct_matrix(N_MELS))
_WINDOW = _constant(_window())
_WIN_AC = _constant(_window_autocorrelation())


@dataclass(frozen=True)
class Frames:
    """Per-frame analysis of one signal at :data:`RATE` (10 ms hop, frame ``i`` centred at ``i * HOP``).

    Attributes
    ----------
    cepstrum : numpy.ndarray
        ``[T, N_MELS]`` DCT of the log-mel spectrum.
    envelope : numpy.ndarray
        ``[T, N_MELS]`` liftered log-mel envelope with each frame's mean removed (shape only).
    voiced : numpy.ndarray
        ``[T]`` bool.
    sounding : numpy.ndarray
        ``[T]`` bool, False for silence.
    """

    cepstrum: np.ndarray
    envelope: np.ndarray
    voiced: np.ndarray
    sounding: np.ndarray


def analyse(audio16k: np.ndarray) -> Frames:
    """Frame-level cepstrum, envelope shape, voicing and silence of 16 kHz audio."""
    x = np.asarray(audio16k, np.float64)
    x = np.pad(x, (N_FFT // 2, N_FFT // 2))
    n = max(1, 1 + (x.size - N_FFT) // HOP)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    spec = np.fft.rfft(x[idx] * _WINDOW, axis=1)
    power = spec.real**2 + spec.imag**2
    log_mel = np.log(power @ _MEL.T + 1e-10)
    ceps = log_mel @ _DCT.T
    env = ceps[:, :N_ENV_CEPS] @ _DCT[:N_ENV_CEPS]
    env = env - env.mean(axis=1, keepdims=True)
    frame_db = 10.0 * np.log10(power.sum(axis=1) + 1e-10)
    sounding = frame_db > np.percentile(frame_db, 95) - SILENCE_DB
    # voicing: peak of the normalised autocorrelation within the F0 range
    # (Boersma: divided by the window's own autocorrelation, so long lags are not penalised)
    ac = np.fft.irfft(power, axis=1)
    lo, hi = int(RATE / F0_RANGE[1]), int(RATE / F0_RANGE[0])
    peak = (ac[:, lo : hi + 1] / _WIN_AC[lo : hi + 1]).max(axis=1) / np.maximum(ac[:, 0], 1e-12)
    voiced = sounding & (peak > VOICED_CORR)
    return Frames(ceps, env, voiced, sounding)


def reference_frames(audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """Profile tensors of the transfer for one reference.

    Parameters
    ----------
    audio : numpy.ndarray
        Prepared reference, mono float in [-1, 1].
    sample_rate : int
        Its rate in Hz.

    Returns
    -------
    dict
        ``knn_keys`` float16 ``[N, 57]`` (speaker-normalised keys), ``knn_envelope`` float16
        ``[N, N_MELS]`` (natural-log envelope shapes), ``knn_voiced`` uint8 ``[N]``; ``N`` is at
        most :data:`MAX_REFERENCE_FRAMES` sounding frames (evenly spaced when there are more).
    """
    fr = analyse(resample(np.asarray(audio, np.float32), sample_rate, RATE))
    sel = np.flatnonzero(fr.sounding)
    keys = _keys(fr, sel)
    if sel.size > MAX_REFERENCE_FRAMES:
        pick = np.linspace(0, sel.size - 1, MAX_REFERENCE_FRAMES).round().astype(int)
        sel, keys = sel[pick], keys[pick]
    return {
        "knn_keys": keys.astype(np.float16),
        "knn_envelope": fr.envelope[sel].astype(np.float16),
        "knn_voiced": fr.voiced[sel].astype(np.uint8),
    }


FRAME_TENSORS = ("knn_keys", "knn_envelope", "knn_voiced")


def has_frames(tensors: dict[str, np.ndarray]) -> bool:
    """Whether a profile carries the transfer's reference frames (clones do, built-in voices do not)."""
    return all(name in tensors for name in FRAME_TENSORS)


def _keys(fr: Frames, sel: np.ndarray) -> np.ndarray:
    """Speaker-normalised matching keys ``[len(sel), 57]`` of the frames ``sel`` (statistics over ``sel``).

    Each key stacks the normalised c1..c19 of frames ``-KEY_CONTEXT``, ``0`` and ``+KEY_CONTEXT``.
    """
    c = fr.cepstrum[:, KEY_CEPS]
    mean = c[sel].mean(axis=0) if sel.size else 0.0
    std = (c[sel].std(axis=0) if sel.size else 1.0) + 1e-3
    z = (c - mean) / std
    n = z.shape[0]
    parts = [z[np.clip(sel + off, 0, n - 1)] for off in (-KEY_CONTEXT, 0, KEY_CONTEXT)]
    out: np.ndarray = np.concatenate(parts, axis=1) / np.sqrt(3.0)
    return out


def target_gain(
    source: Frames, tensors: dict[str, np.ndarray], settings: TransferSettings
) -> np.ndarray | None:
    """Log-power gain ``[T, N_MELS]`` moving the source frames toward their reference matches.

    Returns ``None`` when the chunk has too few sounding frames or the reference none usable.
    """
    ref_keys = np.asarray(tensors["knn_keys"], np.float32)
    ref_env = np.asarray(tensors["knn_envelope"], np.float32)
    ref_voiced = np.asarray(tensors["knn_voiced"]).astype(bool)
    sel = np.flatnonzero(source.sounding)
    n_ceps = KEY_CEPS.stop - KEY_CEPS.start
    usable = (
        ref_keys.ndim == 2
        and ref_keys.shape[1] == 3 * n_ceps
        and ref_env.shape == (ref_keys.shape[0], N_MELS)
        and ref_voiced.shape == (ref_keys.shape[0],)
        and ref_keys.shape[0] >= settings.k
    )
    if sel.size < MIN_CHUNK_FRAMES or not usable:
        return None
    keys = _keys(source, sel).astype(np.float32)
    d = (keys**2).sum(1)[:, None] + (ref_keys**2).sum(1)[None, :] - 2.0 * keys @ ref_keys.T
    mismatch = source.voiced[sel][:, None] != ref_voiced[None, :]
    d = d + np.where(mismatch, 1e6, 0.0)
    k = min(settings.k, ref_keys.shape[0])
    nn = np.argpartition(d, k - 1, axis=1)[:, :k]
    target = ref_env[nn].mean(axis=1)
    gain = np.zeros_like(source.envelope)
    gain[sel] = target - source.envelope[sel]
    if settings.smooth_frames > 1:  # moving average over time, edges held
        from scipy.ndimage import uniform_filter1d

        gain = uniform_filter1d(gain, settings.smooth_frames, axis=0, mode="nearest")
    gain = np.clip(settings.strength * gain, -settings.limit, settings.limit)
    out: np.ndarray = gain
    return out


def transfer(
    audio: np.ndarray,
    sample_rate: int,
    tensors: dict[str, np.ndarray],
    settings: TransferSettings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """Apply the content-matched envelope transfer to one chunk.

    Parameters
    ----------
    audio : numpy.ndarray
        float mono chunk in [-1, 1] at ``sample_rate``.
    sample_rate : int
        Its rate in Hz (16 kHz or more).
    tensors : dict
        Profile tensors holding ``knn_keys``, ``knn_envelope`` and ``knn_voiced``.
    settings : TransferSettings, optional
        Strength, neighbours, clip and smoothing (the shipped settings when omitted).

    Returns
    -------
    numpy.ndarray
        float64 audio of the same length (the input, as float64, when the chunk is too short).
    """
    from scipy.signal import istft, stft

    x = np.asarray(audio, np.float64)
    fr = analyse(resample(np.asarray(audio, np.float32), sample_rate, RATE))
    gain = target_gain(fr, tensors, settings)
    if gain is None or settings.strength <= 0.0:
        return x
    nper = round(STFT_SECONDS * sample_rate)
    nper += nper % 2
    hop = nper // 4
    _, _, z = stft(x, fs=sample_rate, window="hann", nperseg=nper, noverlap=nper - hop)
    # gain frames (10 ms, centred at i*HOP/RATE s) -> STFT frames (centred at j*hop/sample_rate s),
    # then mel band centres -> STFT bins; linear, holding the end values beyond either end
    t_gain = np.arange(gain.shape[0]) * (HOP / RATE)
    t_stft = np.arange(z.shape[1]) * (hop / sample_rate)
    g_t = _interp(t_gain, gain, t_stft, axis=0)  # [frames, N_MELS]
    freqs = np.linspace(0.0, sample_rate / 2, z.shape[0])
    g = _interp(mel_centres(), g_t, freqs, axis=1).T  # [bins, frames]
    taper = np.clip((TAPER_HZ[1] - freqs) / (TAPER_HZ[1] - TAPER_HZ[0]), 0.0, 1.0)
    z = z * np.exp(0.5 * g * taper[:, None])
    _, y = istft(z, fs=sample_rate, window="hann", nperseg=nper, noverlap=nper - hop)
    out = np.zeros(x.size)
    n = min(x.size, y.size)
    out[:n] = y[:n]
    return out


def _interp(x: np.ndarray, y: np.ndarray, x_new: np.ndarray, *, axis: int) -> np.ndarray:
    """Linear interpolation of ``y`` (sampled at increasing ``x`` along ``axis``) at ``x_new``,
    holding the first and last values outside ``x``."""
    from scipy.interpolate import interp1d

    first, last = np.take(y, 0, axis=axis), np.take(y, -1, axis=axis)
    f = interp1d(x, y, axis=axis, bounds_error=False, fill_value=(first, last), assume_sorted=True)
    out: np.ndarray = f(x_new)
    return out


def limit_peak(out: np.ndarray) -> np.ndarray:
    """float32 copy of ``out`` scaled down so that its peak is at most 0.99."""
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0.99:
        out = out * (0.99 / peak)
    return np.asarray(out, np.float32)
