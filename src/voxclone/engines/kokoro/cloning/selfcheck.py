"""Similarity self-check: how much a clone sounds like its reference, 0 (a stranger) to 1 (the speaker).

The clone speaks a fixed test sentence; the d-vector cosine between that render and the reference
is mapped linearly from the encoder's stranger level (0) to its same-speaker level (1) and clipped.
The calibration points are the d-vector encoder's LibriSpeech averages (see
:mod:`voxclone.audio.speaker`).

Clones carry the reference's own frames (the envelope transfer), so scoring one against that same
reference flatters it. When the reference is the clone's own (its stored d-vector matches), the
check is split-half: the test sentence is rendered with frames of the reference's first half only
and scored against the second half. A long upload is enrolled from a 10–15 s window; the rest of
its speech (``held_out``) is scored instead: the clone itself speaks, and its cosine to each of up
to :data:`MAX_PIECES` held-out pieces as long as half the window (so both read on one scale) is
averaged. Why, and what these choices measured: ``docs/cloning.md`` ("The self-check").
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from voxclone.engines.kokoro.cloning.cloner import ClonerHost, cloner_of
from voxclone.engines.kokoro.cloning.envelope import has_frames, reference_frames
from voxclone.voices.profile import VoiceProfile

TEST_SENTENCE = "Hello, this is my new voice. I am reading a short sentence so you can hear how it sounds."
TEST_LANGUAGE = "en-us"
STRANGER_COSINE = 0.31
SAME_COSINE = 0.86
SAME_REFERENCE_COSINE = 0.995  # the profile's stored d-vector: this is its enrollment reference
MIN_HALF_S = 1.5  # shorter references are scored whole (flattering, but nothing else is left)
MAX_PIECES = 4  # held-out pieces scored for a long upload (more cost time, barely less noise)


class Renderer(ClonerHost, Protocol):
    """What the self-check needs of the engine: its cloner and whole-utterance synthesis."""

    @property
    def sample_rate(self) -> int: ...

    def generate(
        self, text: str, voice: VoiceProfile, *, language: str | None = None, speed: float = 1.0
    ) -> np.ndarray: ...


def similarity(
    engine: Renderer,
    profile: VoiceProfile,
    reference_audio: np.ndarray,
    sample_rate: int,
    *,
    held_out: np.ndarray | None = None,
) -> float:
    """Score a clone against its reference.

    Parameters
    ----------
    engine : Renderer
        The engine that renders the test sentence (post-stage included), built with a cloner.
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
    encoder = cloner_of(engine).encoder
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
    own = profile.tensors.get("speaker_embedding")
    if not has_frames(profile.tensors) or own is None or np.asarray(own).shape != dvector.shape:
        return False
    return float(np.asarray(own, np.float32) @ dvector) > SAME_REFERENCE_COSINE


def cosine_to_identity(cosine: float) -> float:
    """Map a d-vector cosine to 0–1 with the stranger/same-speaker calibration, clipped."""
    return float(np.clip((cosine - STRANGER_COSINE) / (SAME_COSINE - STRANGER_COSINE), 0.0, 1.0))
