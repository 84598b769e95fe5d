"""Voice cloning for the Kokoro engine: enrollment, the post-synthesis timbre stage, self-check.

- :func:`enroll` turns a prepared reference into a ``kokoro`` version-1 profile in well under a
  second (no synthesis): a style blended from the committed anchor table plus the settings of the
  post-synthesis stage.
- :func:`postprocess` is applied by the engine to every synthesized chunk: the content-matched,
  time-varying envelope transfer toward the reference's frames (``knn_*`` tensors, see
  :mod:`~voxclone.engines.kokoro.cloning.envelope`); profiles enrolled before it (``eq`` but no
  ``knn_*``) get the global envelope correction as a linear-phase filter instead. WORLD pitch
  mapping and formant warp run only when a profile asks for them. Chunk-local, stateless;
  built-in profiles (none of these tensors) pass through unchanged.
- :func:`similarity` is the 0–1 self-check stored with a clone.
- :func:`check` loads the resources enrollment needs and runs WORLD once (server start).
"""

from __future__ import annotations

import numpy as np

from voxclone.engines.kokoro.cloning.enrollment import context, enroll
from voxclone.engines.kokoro.cloning.envelope import has_frames, transfer
from voxclone.engines.kokoro.cloning.features import ANALYSIS_RATE, world
from voxclone.engines.kokoro.cloning.selfcheck import similarity
from voxclone.engines.kokoro.cloning.timbre import MIN_SAMPLES, convert, limit_peak, post_tensors
from voxclone.voices.profile import VoiceProfile

__all__ = ["check", "enroll", "postprocess", "similarity"]


def check(engine: object) -> None:
    """Load ``engine``'s cloning resources (anchor table, speaker encoder) and run WORLD's pitch and
    envelope analysis on a 0.5 s tone, so that a missing or broken part fails at server start.

    Raises
    ------
    MissingDependency
        ``pyworld`` is missing or fails to import.
    Exception
        Whatever a broken part raises (a missing model file, a native library that fails to load).
    """
    context(engine)
    pw = world()
    t = np.arange(ANALYSIS_RATE // 2) / ANALYSIS_RATE
    tone = 0.3 * np.sin(2 * np.pi * 150.0 * t)
    f0, times = pw.dio(tone, ANALYSIS_RATE)
    envelope = pw.cheaptrick(tone, pw.stonemask(tone, f0, times, ANALYSIS_RATE), times, ANALYSIS_RATE)
    if not np.all(np.isfinite(envelope)):
        raise RuntimeError("WORLD's CheapTrick returned non-finite values for a test tone")


def postprocess(audio: np.ndarray, profile: VoiceProfile, sample_rate: int) -> np.ndarray:
    """Move one synthesized chunk toward the cloned speaker's pitch and timbre.

    Parameters
    ----------
    audio : numpy.ndarray
        float32 mono chunk in [-1, 1] as the model produced it.
    profile : VoiceProfile
        The voice it was rendered with.
    sample_rate : int
        Rate of ``audio`` in Hz.

    Returns
    -------
    numpy.ndarray
        float32 audio of the same length (``audio`` itself for profiles without post-stage data).
    """
    params = post_tensors(profile.tensors)
    if not has_frames(profile.tensors):
        if params is None:
            return audio
        f0_map, warp, eq = params
        return convert(audio, sample_rate, f0_map, warp, eq)
    if audio.size < MIN_SAMPLES or not np.any(audio):
        return audio
    x = audio
    if params is not None:  # pitch / formant mapping only (the transfer replaces the global EQ)
        f0_map, warp, _ = params
        x = convert(audio, sample_rate, f0_map, warp, np.zeros(0))
    return limit_peak(transfer(x, sample_rate, profile.tensors))
