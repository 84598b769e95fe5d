"""Kokoro voice profiles: the one profile version, and the check a profile passes before use.

A Kokoro profile (:class:`~voxclone.voices.profile.VoiceProfile`, engine ``"kokoro"``) holds a
style table ``style`` ``[N, 256]`` (one row per token count, or one row) and, for clones, the
tensors of the cloning method (see :mod:`voxclone.engines.kokoro.cloning`).

``PROFILE_VERSION`` says what a profile means. Bump it whenever that changes (a new cloning method,
a tensor read differently, a new anchor table); the engine then refuses older profiles with
:class:`~voxclone.errors.ProfileOutdated` instead of keeping their rendering code alive, and they are
re-enrolled from their kept reference audio.

History:

1. Built-in styles, and clones of four methods told apart by optional tensors (``anchors+eq-v1``
   global envelope EQ, ``anchors+knn-v2`` envelope transfer, ``anchors+knn+pitch-v3`` pitch factor,
   ``anchors+knn+pitch-v4`` 1,200-anchor table), plus never-used WORLD pitch/formant settings.
2. Built-in styles, and ``anchors+knn+pitch-v4`` clones holding only what that method reads
   (``style``, ``pitch``, the ``knn_*`` frames and the reference statistics).
"""

from __future__ import annotations

import numpy as np

from voxclone.engines.kokoro.model import STYLE_DIM
from voxclone.errors import InvalidRequest, ProfileOutdated
from voxclone.voices.profile import VoiceProfile

ENGINE_NAME = "kokoro"
PROFILE_VERSION = 2


def is_outdated(voice: VoiceProfile) -> bool:
    """Whether ``voice`` is a Kokoro profile of an older version (re-enroll it from its reference)."""
    return voice.engine == ENGINE_NAME and voice.version < PROFILE_VERSION


def check(voice: VoiceProfile) -> None:
    """Refuse a profile this engine cannot speak with.

    Raises
    ------
    ProfileOutdated
        ``voice_outdated`` (409): a Kokoro profile of an older version.
    InvalidRequest
        ``incompatible_voice`` (400): another engine's profile, a newer version, or no ``style``.
    """
    if is_outdated(voice):
        raise ProfileOutdated(
            f"this voice was made by an older version of the Kokoro cloning method (profile version "
            f"{voice.version}, now {PROFILE_VERSION}); re-create the voice from its recording",
            engine=ENGINE_NAME,
            found=voice.version,
            current=PROFILE_VERSION,
        )
    if voice.engine != ENGINE_NAME or voice.version != PROFILE_VERSION or "style" not in voice.tensors:
        raise InvalidRequest(
            f"voice profile is for engine {voice.engine!r} version {voice.version}, not "
            f"{ENGINE_NAME} version {PROFILE_VERSION}; re-create the voice with this engine",
            code="incompatible_voice",
        )


def style_table(voice: VoiceProfile) -> np.ndarray:
    """The style rows, float32 ``[N, 256]``, of a profile that passed :func:`check`."""
    table = np.asarray(voice.tensors["style"], np.float32)
    return table.reshape(-1, STYLE_DIM)
