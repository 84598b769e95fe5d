"""Preparation steps on synthetic signals (no models): trimming, pause shortening, windows, loudness."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from voxclone.audio.encode import encode_all, open_encoder
from voxclone.audio.prepare import (
    best_window,
    normalise_loudness,
    remove_dc,
    source_position,
    trim_and_tighten,
)

SR = 16000


def _burst(seconds: float, hz: float = 200.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_trim_and_tighten_keeps_speech_and_shortens_long_pauses() -> None:
    silence = np.zeros(2 * SR, np.float32)
    short = np.zeros(SR // 5, np.float32)
    x = np.concatenate([silence, _burst(1.0), silence, _burst(1.0), short, _burst(1.0)])
    segs = [(2 * SR, 3 * SR), (5 * SR, 6 * SR), (int(6.2 * SR), int(7.2 * SR))]
    y, new_segs, shortened = trim_and_tighten(x, SR, segs)
    assert shortened == 1  # the 2 s pause; the 0.2 s one stays
    assert abs(len(y) / SR - (3.0 + 0.2 + 0.35 + 0.1)) < 0.05  # speech, short pause, kept pause, lead-in
    for (s, e), (s0, e0) in zip(new_segs, segs, strict=True):
        assert e - s == e0 - s0
        np.testing.assert_allclose(y[s + 200 : e - 200], x[s0 + 200 : e0 - 200], atol=1e-6)


def test_best_window_prefers_speech_and_respects_bounds() -> None:
    # 40 s: first half sparse speech (1 s bursts every 3 s), second half dense (2 s bursts every 2.3 s)
    x = np.zeros(40 * SR, np.float32)
    segs = []
    for a in np.arange(0.5, 20, 3.0):
        segs.append((int(a * SR), int((a + 1) * SR)))
    for a in np.arange(20.0, 37.5, 2.3):
        segs.append((int(a * SR), int((a + 2) * SR)))
    for s, e in segs:
        x[s:e] = _burst((e - s) / SR)
    a, b = best_window(x, SR, segs) or (0, 0)
    assert 10 * SR <= b - a <= 15 * SR
    assert a >= 19 * SR  # chose the dense half


def test_source_position_maps_the_tightened_clip_back() -> None:
    silence = np.zeros(2 * SR, np.float32)
    x = np.concatenate([silence, _burst(1.0), silence, _burst(1.0), silence])
    segs = [(2 * SR, 3 * SR), (5 * SR, 6 * SR)]
    y, kept, _ = trim_and_tighten(x, SR, segs)
    for (s0, e0), (s, e) in zip(segs, kept, strict=True):
        assert source_position(s, segs, kept) == s0 and source_position(e, segs, kept) == e0
    assert source_position(0, segs, kept) == 2 * SR - int(0.1 * SR)  # the kept lead-in
    assert source_position(len(y), segs, kept) == 6 * SR + int(0.1 * SR)


def test_best_window_none_without_pauses() -> None:
    x = _burst(40.0)
    assert best_window(x, SR, [(0, len(x))]) is None


def test_remove_dc_and_loudness() -> None:
    import pyloudnorm

    x = _burst(3.0) * 0.1 + 0.2
    y = remove_dc(x, SR)
    assert abs(float(y[SR:].mean())) < 1e-3
    z = normalise_loudness(y, SR)
    assert abs(pyloudnorm.Meter(SR).integrated_loudness(z.astype(np.float64)) + 20.0) < 0.5
    loud_peaky = np.zeros(3 * SR, np.float32)
    loud_peaky[::400] = 1.0  # clicks: loudness gain would push peaks over the ceiling
    assert np.abs(normalise_loudness(loud_peaky, SR)).max() <= 10 ** (-1 / 20) + 1e-6
    assert normalise_loudness(np.zeros(SR, np.float32), SR).max() == 0.0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=8))
def test_streamed_pcm_and_wav_equal_whole_file_for_any_chunking(sizes: list[int]) -> None:
    rng = np.random.default_rng(sum(sizes))
    x = (rng.standard_normal(sum(sizes)) * 0.3).astype(np.float32)
    for fmt in ("pcm", "wav"):
        enc = open_encoder(fmt, 24000)
        pos, out = 0, b""
        for n in sizes:
            out += enc.encode(x[pos : pos + n])
            pos += n
        out += enc.finish()
        whole = encode_all(x, 24000, fmt)
        assert out[44:] == whole[44:] if fmt == "wav" else out == whole
