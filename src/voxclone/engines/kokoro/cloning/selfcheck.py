"""Similarity self-check: how much a clone sounds like its reference, 0 (a stranger) to 1 (the speaker).

The clone speaks a fixed test sentence; the d-vector cosine between that render and the reference
is mapped linearly from the encoder's stranger level (0) to its same-speaker level (1) and clipped.
The calibration points are the d-vector encoder's LibriSpeech averages (see
:mod:`voxclone.audio.speaker`).

Clones with the content-matched envelope transfer borrow the reference's own frames, so scoring
them against that same reference flatters them (1688: 0.87 against the reference, 0.41 against
the speaker's other recordings). When the reference is the clone's own (its stored d-vector
matches), the check is split-half: the test sentence is rendered with frames of the reference's
first half only and scored against the second half.

A long upload is enrolled from a 10–15 s window; the rest of its speech (``held_out``) is then
scored instead, so no half of the window is held back from the probe: the clone itself speaks, and
its cosine to each of up to :data:`MAX_PIECES` held-out pieces as long as half the window (the
length the split-half check scores against, so both read on one scale) is averaged.

Measured on the five speech-dev speakers (LibriSpeech, 10 utterances each), uploads of their first
15 s vs 45 s: the clones are equally like the speakers (mean d-vector cosine to all ten utterances
0.625 vs 0.614; per speaker -0.09 to +0.04), while the self-check read 0.73 vs 0.56 (split-half on
the window) and 0.57 (held-out pieces). The gap is the score's spread over which few seconds are
scored (one speaker: 0.80 from its first 15 s, 0.25 split-half / 0.39 held-out at 45 s), not a
worse clone; the report's ``window`` says which part of the upload the clone was made from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxclone.voices.profile import VoiceProfile

TEST_SENTENCE = "Hello, this is my new voice. I am reading a short sentence so you can hear how it sounds."
TEST_LANGUAGE = "en-us"
STRANGER_COSINE = 0.31
SAME_COSINE = 0.86
SAME_REFERENCE_COSINE = 0.995  # the profile's stored d-vector: this is its enrollment reference
MIN_HALF_S = 1.5  # shorter references are scored whole (flattering, but nothing else is left)
MAX_PIECES = 4  # held-out pieces scored for a long upload (more cost time, barely less noise)


def similarity(
    engine: Any,
    profile: VoiceProfile,
    reference_audio: np.ndarray,
    sample_rate: int,
    *,
    held_out: np.ndarray | None = None,
) -> float:
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
    held_out : numpy.ndarray, optional
        Speech of the same upload not in ``reference_audio`` (a long upload's remainder), at
        ``sample_rate``; scored instead of a split half when it holds at least ``2 * MIN_HALF_S`` s.

    Returns
    -------
    float
        Identity in [0, 1]: 0 sounds like a stranger, 1 like another recording of the speaker.
    """
    from voxclone.engines.kokoro.cloning.cloner import cloner_of as context
    from voxclone.engines.kokoro.cloning.envelope import reference_frames

    encoder = context(engine).encoder
    x = np.asarray(reference_audio, np.float32).ravel()
    rest = None if held_out is None else np.asarray(held_out, np.float32).ravel()
    if rest is not None and rest.size >= 2 * MIN_HALF_S * sample_rate:
        rendered = engine.generate(TEST_SENTENCE, profile, language=TEST_LANGUAGE)
        voice = encoder.embed(rendered, engine.sample_rate)
        pieces = _pieces(rest, max(x.size // 2, int(MIN_HALF_S * sample_rate)))
        cos = float(np.mean([voice @ encoder.embed(p, sample_rate) for p in pieces]))
        return cosine_to_identity(cos)
    probe, scored = profile, x
    if _enrolled_from(profile, encoder.embed(x, sample_rate)) and x.size >= 2 * MIN_HALF_S * sample_rate:
        mid = x.size // 2
        tensors = {**profile.tensors, **reference_frames(x[:mid], sample_rate)}
        probe, scored = VoiceProfile(profile.engine, profile.version, tensors, profile.meta), x[mid:]
    rendered = engine.generate(TEST_SENTENCE, probe, language=TEST_LANGUAGE)
    ref = encoder.embed(scored, sample_rate)
    cos = float(encoder.embed(rendered, engine.sample_rate) @ ref)
    return cosine_to_identity(cos)


def _pieces(audio: np.ndarray, length: int) -> list[np.ndarray]:
    """Up to :data:`MAX_PIECES` disjoint pieces of ``length`` samples spread evenly over ``audio``
    (the whole of it when it is shorter than one piece)."""
    n = min(MAX_PIECES, audio.size // length)
    if n == 0:
        return [audio]
    starts = np.linspace(0, audio.size - length, n).round().astype(int)
    return [audio[s : s + length] for s in starts]


def _enrolled_from(profile: VoiceProfile, dvector: np.ndarray) -> bool:
    """Whether ``profile`` carries transfer frames taken from the reference with this d-vector."""
    from voxclone.engines.kokoro.cloning.envelope import has_frames

    own = profile.tensors.get("speaker_embedding")
    if not has_frames(profile.tensors) or own is None or np.asarray(own).shape != dvector.shape:
        return False
    return float(np.asarray(own, np.float32) @ dvector) > SAME_REFERENCE_COSINE


def cosine_to_identity(cosine: float) -> float:
    """Map a d-vector cosine to 0–1 with the stranger/same-speaker calibration, clipped."""
    return float(np.clip((cosine - STRANGER_COSINE) / (SAME_COSINE - STRANGER_COSINE), 0.0, 1.0))
