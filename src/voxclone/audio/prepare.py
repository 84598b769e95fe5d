"""Turn decoded speech into enrollment audio: DC removal, silence trimming, pause shortening,
best-window selection for long clips and loudness normalisation."""

from __future__ import annotations

import numpy as np

TARGET_LUFS = -20.0
PEAK_CEILING_DBFS = -1.0
EDGE_PAD_S = 0.1
MAX_PAUSE_S = 0.6
KEEP_PAUSE_S = 0.35
WINDOW_MIN_S = 10.0
WINDOW_MAX_S = 15.0
FILTER_BLOCK = 1 << 16


def remove_dc(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Remove DC offset and rumble below ~40 Hz (2nd-order Butterworth high-pass, zero-phase).

    The same result as ``scipy.signal.sosfiltfilt`` (odd padding, steady-state start), computed
    in blocks of :data:`FILTER_BLOCK` samples into one float32 output: beyond the output, memory
    stays a few MB whatever the clip's length (``sosfiltfilt`` holds several float64 copies).
    """
    from scipy.signal import butter, sosfilt, sosfilt_zi

    x = np.asarray(audio, np.float32).reshape(-1)
    if x.size < 64:
        return (x - np.float32(x.mean())) if x.size else x.copy()
    sos = butter(2, 40.0, btype="highpass", fs=sample_rate, output="sos")
    edge = 9  # sosfiltfilt's default pad for one section: 3 * (2 * 1 + 1)
    mean = float(x.mean(dtype=np.float64))
    head = 2.0 * x[0] - x[edge:0:-1].astype(np.float64)  # odd extension, as sosfiltfilt pads
    tail = 2.0 * x[-1] - x[-2 : -edge - 2 : -1].astype(np.float64)
    y = np.empty(x.size + 2 * edge, np.float32)
    y[:edge], y[edge:-edge], y[-edge:] = head - mean, x - np.float32(mean), tail - mean
    zi = sosfilt_zi(sos)
    for view in (y, y[::-1]):  # forward, then backward over the forward output
        state = zi * float(view[0])
        for start in range(0, view.size, FILTER_BLOCK):
            part, state = sosfilt(sos, view[start : start + FILTER_BLOCK].astype(np.float64), zi=state)
            view[start : start + FILTER_BLOCK] = part
    return np.ascontiguousarray(y[edge:-edge])


def scale_segments(segments: list[tuple[int, int]], src: int, dst: int, n: int) -> list[tuple[int, int]]:
    """Map sample ranges from rate ``src`` to rate ``dst`` (clamped to ``n`` samples)."""
    return [(min(n, s * dst // src), min(n, e * dst // src)) for s, e in segments]


def trim_and_tighten(
    audio: np.ndarray, sample_rate: int, segments: list[tuple[int, int]]
) -> tuple[np.ndarray, list[tuple[int, int]], int]:
    """Keep speech segments, trim the edges to ``EDGE_PAD_S`` and shorten pauses over ``MAX_PAUSE_S``.

    Returns the new audio, the segments in its time base, and how many pauses were shortened.
    Joins are cross-faded over 10 ms so no clicks appear.
    """
    if not segments:
        return audio[:0], [], 0
    pad = int(EDGE_PAD_S * sample_rate)
    keep = int(KEEP_PAUSE_S * sample_rate)
    half = keep // 2
    long_gap = int(MAX_PAUSE_S * sample_rate)
    runs: list[list[int]] = [[max(0, segments[0][0] - pad), 0]]  # contiguous source ranges kept
    owner: list[int] = []  # run index of each segment
    prev_end = segments[0][0]
    for s, e in segments:
        if s - prev_end > long_gap:
            runs[-1][1] = prev_end + half
            runs.append([s - (keep - half), 0])
        owner.append(len(runs) - 1)
        prev_end = e
    runs[-1][1] = min(len(audio), segments[-1][1] + pad)
    out, offsets = _crossfade_join([audio[a:b] for a, b in runs], int(0.01 * sample_rate))
    new_segments = [
        (offsets[k] + s - runs[k][0], offsets[k] + e - runs[k][0])
        for (s, e), k in zip(segments, owner, strict=True)
    ]
    return out, new_segments, len(runs) - 1


def _crossfade_join(pieces: list[np.ndarray], fade: int) -> tuple[np.ndarray, list[int]]:
    """Join with linear cross-fades; also return where each piece starts in the output."""
    out = np.asarray(pieces[0], np.float32).copy() if pieces else np.zeros(0, np.float32)
    offsets = [0]
    for p in pieces[1:]:
        p = np.asarray(p, np.float32)
        f = min(fade, len(out), len(p))
        offsets.append(len(out) - f)
        if f > 0:
            ramp = np.linspace(0.0, 1.0, f, dtype=np.float32)
            mixed = out[-f:] * (1.0 - ramp) + p[:f] * ramp
            out = np.concatenate([out[:-f], mixed, p[f:]])
        else:
            out = np.concatenate([out, p])
    return out, offsets


def best_window(
    audio: np.ndarray, sample_rate: int, segments: list[tuple[int, int]]
) -> tuple[int, int] | None:
    """Pick the best 10–15 s stretch (sample range) that starts and ends at pauses.

    Candidates start at a speech segment and take as many whole segments as fit in 15 s; the
    score favours more speech, fewer near-full-scale samples and steadier loudness.
    """
    pad = int(EDGE_PAD_S * sample_rate)
    lo, hi = int(WINDOW_MIN_S * sample_rate), int(WINDOW_MAX_S * sample_rate)
    flat = _flat_tops(audio)
    best: tuple[float, int, int] | None = None
    for i, (s0, _) in enumerate(segments):
        a = max(0, s0 - pad)
        speech = 0
        b = None
        for s, e in segments[i:]:
            if min(len(audio), e + pad) - a > hi:
                break
            speech += e - s
            b = min(len(audio), e + pad)
        if b is None or b - a < lo:
            continue
        clip = float(flat[a:b].mean())
        score = speech / hi - 50.0 * clip
        if best is None or score > best[0]:
            best = (score, a, b)
    return None if best is None else (best[1], best[2])


def source_position(index: int, segments: list[tuple[int, int]], kept: list[tuple[int, int]]) -> int:
    """Map a sample ``index`` of :func:`trim_and_tighten`'s output back to its input.

    ``segments`` are the speech segments in the input, ``kept`` the same segments in the output
    (as returned). Within a kept stretch the shift is constant, so the nearest segment's shift is
    exact for speech and for the padding and short pauses kept around it.
    """
    if not segments:
        return index
    distance = [max(s - index, index - e, 0) for s, e in kept]
    k = int(np.argmin(distance))
    return index + segments[k][0] - kept[k][0]


def _flat_tops(audio: np.ndarray) -> np.ndarray:
    """Mask of samples in runs of >= 3 at the clip's ceiling (within 0.1% of its peak): clipping."""
    a = np.abs(np.asarray(audio, np.float32))
    if a.size < 3:
        return np.zeros(a.size, bool)
    at = a >= 0.999 * float(a.max())
    run3 = at[:-2] & at[1:-1] & at[2:]
    mask = np.zeros(a.size, bool)
    for k in range(3):
        mask[k : k + run3.size] |= run3
    return mask


def normalise_loudness(
    audio: np.ndarray, sample_rate: int, *, target_lufs: float = TARGET_LUFS
) -> np.ndarray:
    """Gain to ``target_lufs`` integrated loudness (BS.1770), limited so peaks stay under -1 dBFS."""
    import pyloudnorm

    x = np.asarray(audio, np.float32)
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak <= 1e-6:
        return x
    gain = 1.0
    if len(x) >= int(0.5 * sample_rate):
        lufs = pyloudnorm.Meter(sample_rate).integrated_loudness(x.astype(np.float64))
        if np.isfinite(lufs):
            gain = 10.0 ** ((target_lufs - lufs) / 20.0)
    ceiling = 10.0 ** (PEAK_CEILING_DBFS / 20.0)
    gain = min(gain, ceiling / peak)
    return np.asarray(x * gain, np.float32)
