"""Median pitch of rendered speech, for tests that check pitch changes (WORLD DIO at 16 kHz)."""

from __future__ import annotations

import numpy as np

from voxclone.audio.speaker import resample
from voxclone.engines.kokoro.cloning.features import ANALYSIS_RATE, pitch


def median_f0(audio: np.ndarray, sample_rate: int) -> float:
    """Median F0 in Hz over the frames DIO calls voiced."""
    track, _ = pitch(resample(audio, sample_rate, ANALYSIS_RATE))
    return float(np.median(track[track > 0]))
