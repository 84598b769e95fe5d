"""Enrollment: a prepared reference → a Kokoro voice profile (method :data:`METHOD`).

Steps, all closed-form (no synthesis), about 0.1–0.3 s for a 10 s reference on one core:

1. the reference's d-vector (:class:`~voxclone.audio.speaker.SpeakerEncoder`), log-F0 statistics
   and spectral envelope (:func:`~voxclone.engines.kokoro.cloning.features.analyse`);
2. style: softmax blend of the nearest anchors of the committed anchor table (the engine's own
   renders of sampled pack blends), separately for the timbre and prosody halves;
3. pitch: the factor the model's F0 curve is scaled by (the graph's ``pitch`` input, see
   :mod:`~voxclone.engines.kokoro.graph`), closing the part of the gap between the style's expected
   pitch and the reference's beyond ``PITCH_TOLERANCE_ST`` semitones (:func:`pitch_factor`);
4. the reference's frames for the content-matched envelope transfer applied after synthesis
   (:mod:`~voxclone.engines.kokoro.cloning.envelope`, ``knn_*`` tensors).

Why these steps and settings, their measured effect, and what was tried and dropped:
``docs/cloning.md``.
"""

from __future__ import annotations

import numpy as np

from voxclone.audio.speaker import SpeakerEncoder
from voxclone.engines.kokoro.cloning.envelope import reference_frames
from voxclone.engines.kokoro.cloning.features import analyse
from voxclone.engines.kokoro.cloning.styles import AnchorTable, blend
from voxclone.engines.kokoro.model import MAX_PITCH, MIN_PITCH, bounded
from voxclone.engines.kokoro.profile import ENGINE_NAME, PROFILE_VERSION
from voxclone.errors import Unprocessable
from voxclone.voices.profile import VoiceProfile

METHOD = "anchors+knn+pitch-v4"
NEIGHBOURS = 8
TEMPERATURE = 0.02
PITCH_TOLERANCE_ST = 2.0
# DIO calls a reference voiced in nearly every frame when it tracks a hum or noise floor instead of
# the voice; speech, with its pauses and unvoiced consonants, stays well below. Such pitch
# estimates are not used (the style keeps its own pitch).
MAX_VOICED_FRACTION = 0.99
MIN_REFERENCE_S = 1.0


def enroll(
    audio: np.ndarray,
    sample_rate: int,
    *,
    encoder: SpeakerEncoder,
    anchors: AnchorTable,
    packs: np.ndarray,
) -> VoiceProfile:
    """Clone a voice from a prepared reference.

    Parameters
    ----------
    audio : numpy.ndarray
        Prepared reference: float32 mono speech in [-1, 1], trimmed and normalised, 3–30 s.
    sample_rate : int
        Its rate in Hz (8 kHz or more).
    encoder : SpeakerEncoder
        The d-vector encoder the anchor table was built with.
    anchors : AnchorTable
        The committed anchor table.
    packs : numpy.ndarray
        ``[P, 510, 256]`` voice packs in ``anchors.pack_names`` order.

    Returns
    -------
    VoiceProfile
        Engine ``kokoro``, version :data:`~voxclone.engines.kokoro.profile.PROFILE_VERSION`, with
        tensors ``style [510, 256]``, ``pitch [1]``, ``speaker_embedding``, ``f0_stats [2]``,
        ``envelope [48]``, ``pack_weights [2, P]`` and the envelope-transfer frames ``knn_keys``,
        ``knn_envelope``, ``knn_voiced`` (~350 KB for a 15 s reference); ``meta`` holds a short
        enrollment report.

    Raises
    ------
    Unprocessable
        ``reference_too_short`` for less than a second of audio.
    """
    x = np.asarray(audio, np.float32).ravel()
    if x.size < MIN_REFERENCE_S * sample_rate or not np.any(x):
        raise Unprocessable(
            "the reference holds less than a second of sound; upload 5–10 s of clear speech",
            code="reference_too_short",
        )
    dvec = encoder.embed(x, sample_rate)
    feats = analyse(x, sample_rate)
    est = anchors.estimate(dvec, k=NEIGHBOURS, temperature=TEMPERATURE)
    ref_f0 = feats["log_f0"]
    pitch_reliable = float(feats["voiced"][0]) <= MAX_VOICED_FRACTION
    pitch = pitch_factor(float(ref_f0[0]), float(est.log_f0[0])) if pitch_reliable else 1.0
    return VoiceProfile(
        engine=ENGINE_NAME,
        version=PROFILE_VERSION,
        tensors={
            "style": blend(packs, est.weights),
            "speaker_embedding": dvec.astype(np.float32),
            "f0_stats": ref_f0.astype(np.float32),
            "envelope": feats["envelope"].astype(np.float32),
            "pack_weights": est.weights.astype(np.float32),
            "pitch": np.array([pitch], np.float32),
            **reference_frames(x, sample_rate),
        },
        meta={
            "source": "clone",
            "method": METHOD,
            "reference_seconds": round(x.size / sample_rate, 2),
            "reference_f0_hz": round(float(np.exp(ref_f0[0])), 1),
            "style_f0_hz": round(float(np.exp(est.log_f0[0])), 1),
            "pitch_factor": round(pitch, 3),
            "nearest_anchor_similarity": round(est.similarity, 3),
            "pack_weights": {
                half: {n: round(float(w), 3) for n, w in zip(anchors.pack_names, row, strict=True)}
                for half, row in zip(("timbre", "prosody"), est.weights, strict=True)
            },
        },
    )


def pitch_factor(reference_log_f0: float, style_log_f0: float) -> float:
    """F0 factor for the model: the part of the log-F0 gap beyond ``PITCH_TOLERANCE_ST`` semitones.

    Parameters
    ----------
    reference_log_f0, style_log_f0 : float
        Mean natural-log F0 (Hz) of the reference and of the style's expected render.

    Returns
    -------
    float
        Factor within the model's ``MIN_PITCH``–``MAX_PITCH``; 1.0 when the two are within the
        tolerance.
    """
    gap = reference_log_f0 - style_log_f0
    excess = max(0.0, abs(gap) - PITCH_TOLERANCE_ST * np.log(2.0) / 12.0)
    return bounded(float(np.exp(np.sign(gap) * excess)), MIN_PITCH, MAX_PITCH)
