"""Pitch-preserving tempo change for OpenAI speeds outside the engine's range."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.audio.tempo import change_tempo

SR = 24000


def _pitch_hz(x: np.ndarray, sr: int = SR) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))


@pytest.mark.parametrize("factor", [0.25, 0.5, 0.8, 1.5, 2.0, 4.0])
def test_duration_scales_and_pitch_stays(factor: float) -> None:
    t = np.arange(2 * SR) / SR
    x = (0.5 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 660 * t)).astype(np.float32)
    y = change_tempo(x, SR, factor)
    assert y.dtype == np.float32
    assert abs(len(y) - len(x) / factor) <= 2
    assert abs(_pitch_hz(y) - 220) < 2
    core = y[len(y) // 8 : -len(y) // 8]
    assert 0.3 < float(np.sqrt(np.mean(core**2))) < 0.45  # no dropouts or doubling (clean level ~0.38)


def test_speech_like_signal_keeps_its_envelope_order(speech: np.ndarray) -> None:
    fast = change_tempo(speech, SR, 3.0)
    assert abs(len(fast) - len(speech) / 3) <= 2
    hop = SR // 100  # 10 ms frames of the fast version, 30 ms of the original
    n = min(len(speech) // (3 * hop), len(fast) // hop)
    env = np.abs(speech[: n * 3 * hop]).reshape(n, 3 * hop).max(axis=1)
    env_fast = np.abs(fast[: n * hop]).reshape(n, hop).max(axis=1)
    assert np.corrcoef(env, env_fast)[0, 1] > 0.7


def test_identity_and_bounds() -> None:
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    np.testing.assert_array_equal(change_tempo(x, SR, 1.0), x)
    assert len(change_tempo(np.zeros(0, np.float32), SR, 2.0)) == 0
    for bad in (0.2, 4.5, float("nan")):
        with pytest.raises(ValueError):
            change_tempo(x, SR, bad)
