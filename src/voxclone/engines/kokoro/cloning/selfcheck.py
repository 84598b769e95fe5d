"""Similarity self-check: how much a clone sounds like its reference, 0 (a stranger) to 1 (the speaker).

The clone speaks a fixed test sentence; the d-vector cosine between that render and the reference
is mapped linearly from the encoder's stranger level (0) to its same-speaker level (1) and clipped.
The calibration points are the d-vector encoder's LibriSpeech averages (see
:mod:`voxclone.audio.speaker`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxclone.voices.profile import VoiceProfile

TEST_SENTENCE = "Hello, this is my new voice. I am reading a short sentence so you can hear how it sounds."
TEST_LANGUAGE = "en-us"
STRANGER_COSINE = 0.31
SAME_COSINE = 0.86


def similarity(engine: Any, profile: VoiceProfile, reference_audio: np.ndarray, sample_rate: int) -> float:
    """Score a clone against its reference.

    Parameters
    ----------
    engine : KokoroEngine
        The engine that renders the test sentence (post-stage included).
    profile : VoiceProfile
        The clone (or any Kokoro profile).
    reference_audio : numpy.ndarray
        The prepared reference, float32 mono.
    sample_rate : int
        Its rate in Hz.

    Returns
    -------
    float
        Identity in [0, 1]: 0 sounds like a stranger, 1 like another recording of the speaker.
    """
    from voxclone.engines.kokoro.cloning.enrollment import context

    encoder = context(engine).encoder
    rendered = engine.generate(TEST_SENTENCE, profile, language=TEST_LANGUAGE)
    ref = encoder.embed(np.asarray(reference_audio, np.float32), sample_rate)
    cos = float(encoder.embed(rendered, engine.sample_rate) @ ref)
    return cosine_to_identity(cos)


def cosine_to_identity(cosine: float) -> float:
    """Map a d-vector cosine to 0–1 with the stranger/same-speaker calibration, clipped."""
    return float(np.clip((cosine - STRANGER_COSINE) / (SAME_COSINE - STRANGER_COSINE), 0.0, 1.0))
