"""Pitch-preserving tempo change (WSOLA) for speeds outside the engine's own range.

OpenAI's ``speed`` goes from 0.25 to 4.0; the engine renders 0.5–2.0 itself and this module
stretches the rest. WSOLA (waveform-similarity overlap-add) copies ~30 ms grains from the input at
the analysis rate and overlap-adds them at the synthesis rate, nudging each grain by up to ±10 ms
to the offset whose waveform best continues the previous one, so voiced speech keeps its pitch and
has no phasiness.
"""

from __future__ import annotations

import numpy as np

MIN_FACTOR = 0.25
MAX_FACTOR = 4.0


def split_speed(speed: float, *, native: tuple[float, float]) -> tuple[float, float]:
    """Share a speaking-rate factor between the engine and this stretcher.

    Parameters
    ----------
    speed : float
        Requested factor (1.0 = natural pace).
    native : tuple of float
        ``(low, high)`` factors the engine renders itself.

    Returns
    -------
    tuple of float
        ``(engine_speed, tempo)`` with ``engine_speed`` within ``native`` and
        ``engine_speed * tempo == speed``; ``tempo`` is 1.0 when the engine covers it alone.
    """
    engine_speed = min(max(speed, native[0]), native[1])
    return engine_speed, speed / engine_speed


def change_tempo(audio: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """Play ``audio`` ``factor`` times faster without changing its pitch.

    Parameters
    ----------
    audio : numpy.ndarray
        Mono float32 audio.
    sr : int
        Sample rate in Hz.
    factor : float
        Tempo factor in [0.25, 4.0]; 2.0 halves the duration, 0.5 doubles it.

    Returns
    -------
    numpy.ndarray
        float32 audio of about ``len(audio) / factor`` samples.

    Raises
    ------
    ValueError
        If ``factor`` is outside [0.25, 4.0] or not finite.
    """
    if not np.isfinite(factor) or not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise ValueError(f"tempo factor must be within [{MIN_FACTOR}, {MAX_FACTOR}], got {factor}")
    x = np.asarray(audio, np.float32).reshape(-1)
    if abs(factor - 1.0) < 1e-6 or len(x) == 0:
        return x.copy()
    win = max(64, int(0.03 * sr)) // 2 * 2
    hop_out = win // 2
    hop_in = hop_out * factor
    tol = max(1, int(0.01 * sr))
    out_len = round(len(x) / factor)
    window = np.hanning(win).astype(np.float32)
    pad = np.concatenate([np.zeros(tol, np.float32), x, np.zeros(win + tol + hop_out, np.float32)])
    n_frames = out_len // hop_out + 2
    out = np.zeros(n_frames * hop_out + win, np.float32)
    norm = np.zeros_like(out)
    prev_tail: np.ndarray | None = None
    for k in range(n_frames):
        centre = round(k * hop_in) + tol  # nominal input position (in padded coordinates)
        if centre + win + tol > len(pad):
            break
        delta = 0 if prev_tail is None else _best_offset(pad, centre, tol, prev_tail)
        start = centre + delta
        grain = pad[start : start + win]
        out[k * hop_out : k * hop_out + win] += grain * window
        norm[k * hop_out : k * hop_out + win] += window
        # natural continuation of this grain, hop_out samples later, is what the next grain should match
        prev_tail = pad[start + hop_out : start + hop_out + win]
    norm[norm < 1e-3] = 1.0
    y = (out / norm)[:out_len]
    return np.asarray(y, np.float32)


def _best_offset(pad: np.ndarray, centre: int, tol: int, target: np.ndarray) -> int:
    """Offset in [-tol, tol] maximising the cross-correlation of the grain at ``centre`` with ``target``."""
    seg = pad[centre - tol : centre + tol + len(target)]
    if len(seg) < len(target) + 2 * tol:
        return 0
    corr = np.correlate(seg, target, mode="valid")
    return int(np.argmax(corr)) - tol
