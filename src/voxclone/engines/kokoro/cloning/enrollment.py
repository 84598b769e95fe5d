"""Enrollment: a prepared reference → a Kokoro voice profile (style table + timbre-stage settings).

Steps, all closed-form (no synthesis), about 0.2–0.4 s for a 10 s reference on one core:

1. d-vector of the reference (:class:`~voxclone.audio.speaker.SpeakerEncoder`), its log-F0
   statistics and spectral envelope (:func:`~voxclone.engines.kokoro.cloning.features.analyse`);
2. style: softmax blend of the nearest anchors of the committed anchor table (the engine's own
   renders of sampled pack blends), separately for the timbre and prosody halves;
3. pitch: the factor the model's F0 curve is scaled by (the graph's ``pitch`` input, see
   :mod:`~voxclone.engines.kokoro.graph`), closing the part of the gap between the style's expected
   pitch and the reference's beyond ``PITCH_TOLERANCE_ST`` semitones (:func:`pitch_factor`);
4. timbre stage settings: the reference's frames for the content-matched envelope transfer
   (:mod:`~voxclone.engines.kokoro.cloning.envelope`, ``knn_*`` tensors, ~0.1 s), and the older
   smooth global envelope correction ``eq`` (used only by profiles without ``knn_*`` tensors; see
   :mod:`~voxclone.engines.kokoro.cloning.timbre`). The stage also supports a log-F0 mapping and
   a formant warp; both lowered d-vector likeness on held-out speakers, so ``F0_SHIFT`` and
   ``WARP_RANGE`` leave them off (the mapping is stored as the identity).

Method history (``meta["method"]``; the profile ``version`` stays 1, new tensors are optional):
``anchors+eq-v1`` (global envelope EQ), ``anchors+knn-v2`` (adds the ``knn_*`` tensors),
``anchors+knn+pitch-v3`` (adds ``pitch``), ``anchors+knn+pitch-v4`` (1,200-anchor table rendered
with the current G2P and analysis, pitch tolerance 2 semitones; same tensors).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from voxclone.audio.speaker import SpeakerEncoder
from voxclone.engines.kokoro.cloning.envelope import reference_frames
from voxclone.engines.kokoro.cloning.features import analyse, band_edges
from voxclone.engines.kokoro.cloning.styles import AnchorTable, blend
from voxclone.engines.kokoro.engine import MAX_PITCH, MIN_PITCH, bounded
from voxclone.errors import Unprocessable
from voxclone.voices.profile import VoiceProfile

PROFILE_VERSION = 1
METHOD = "anchors+knn+pitch-v4"
NEIGHBOURS = 8
TEMPERATURE = 0.02
WARP_RANGE = (1.0, 1.0)  # formant warping measured: it lowered d-vector likeness (see bench)
WARP_PRIOR = 4.0  # penalty on (log warp)^2, keeps the warp near 1 unless the envelope insists
EQ_STRENGTH = 0.7
EQ_LIMIT = 2.0  # natural-log power, about ±8.7 dB
EQ_FIT_HZ = 6000.0
F0_SHIFT = 0.0  # fraction of the way the pitch moves toward the reference's (WORLD re-synthesis)
# measured on 8 held-out speakers (d-vector cosine): shifting all the way 0.545 -> 0.429, half 0.489;
# the style's own pitch with the envelope correction alone scores best, so no shift by default.
# Re-measured with the content-matched transfer (50 dev speakers, d-vector cosine): transfer alone
# 0.629; WORLD F0 all the way to the reference 0.566 (WORLD re-synthesis without a shift: 0.605);
# pitch lowered by resampling half/all the way 0.586/0.550; anchors chosen by d-vector plus log-F0
# distance (penalty 0.3/1.0 per log unit): 0.595/0.586 vs 0.614. Clones sit about 4 semitones
# above their reference (median, both genders), and on real speech that gap alone costs ~0.06
# cosine (WORLD re-synthesis 0.860 vs shifted 0.800), so pitch is a minor limit, and no pitch
# change tried so far recovers it.
F0_STD_MIX = 0.0
# In-graph pitch (the decoder renders the scaled F0 itself: no re-synthesis). Measured on 51 dev
# single-utterance speakers, d-vector cosine of 3 rendered sentences against the held-out part of
# the utterance, transfer on: no shift 0.651; halfway 0.657; all the way beyond 4 semitones 0.661
# (men 0.628 -> 0.651, women 0.674 -> 0.671); beyond 3 semitones, 3/4 of the way 0.659. All the way
# (tolerance 0) lowered it (2-sentence run: 0.645 -> 0.637, women -0.032): within a few semitones a
# style keeps its own pitch; gross mismatches (a low male voice mapped to a 220 Hz style) are fixed.
# Also measured and dropped: scaling the curve's log-F0 deviations in the graph (intonation range).
# The d-vector liked flatter speech (range x0.75/0.6/0.45: +0.006/+0.007/+0.009, all from women),
# but Harvest finds the clones' log-F0 spread already equal to the references' (median ratio 0.95,
# 26 speakers), so that is the encoder's taste for monotone speech, not likeness; speaking rate
# (speed x0.88/x1.12: +0.002/-0.003) is left alone too. With the pitch factor in place, anchors
# penalised for a pitch gap beyond 4 semitones (0.5/1.5 per log unit) still scored lower
# (-0.007/-0.010): the d-vector's nearest anchors stay the best timbre choice.
# The 125-anchor table those runs used had been rendered with an older G2P and analysis: it read
# the styles' pitch about 1.4 semitones high (and its envelopes were off), so its 4 semitones were
# nearer 2.6 in fact. With the 1,200-anchor table rendered with today's code (nearest-anchor cosine
# 0.527 -> 0.563; whole pipeline 0.659 -> 0.663), tolerance 4/3/2/1/0 semitones: 0.663 / 0.664 /
# 0.668 / 0.665 / 0.663 (2: men +0.007, women +0.004; below 2 women lose again). So 2.
# Also measured on that table and dropped: optimising the pack weights at enrollment against a
# cubic surrogate of the render's d-vector fitted on the anchors (held-out anchor cosine 0.985):
# predicted 0.63 vs 0.49 for the blend, rendered -0.008 (women -0.019); extrapolation misleads it.
PITCH_TOLERANCE_ST = 2.0
# DIO calls a reference voiced in nearly every frame when it tracks a hum or noise floor instead of
# the voice (dev speaker 4853: 71 Hz, 100 % voiced; Harvest hears 197 Hz); speech with its pauses
# and unvoiced consonants stays well below (dev set 0.6-0.97). Such pitch estimates are not used.
MAX_VOICED_FRACTION = 0.99
MIN_REFERENCE_S = 1.0


@dataclass
class CloningContext:
    """Per-engine cloning resources: the speaker encoder, the anchor table and the packs."""

    encoder: SpeakerEncoder
    anchors: AnchorTable
    packs: np.ndarray  # [P, 510, 256] in the anchor table's order


_contexts: weakref.WeakKeyDictionary[Any, CloningContext] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def context(engine: Any) -> CloningContext:
    """The engine's cloning resources, loaded once per engine object (thread-safe)."""
    with _lock:
        ctx = _contexts.get(engine)
        if ctx is None:
            from voxclone.engines.kokoro import assets

            anchors = AnchorTable.load()
            packs = assets.voice_packs()
            ctx = CloningContext(
                encoder=SpeakerEncoder.from_package(threads=1),
                anchors=anchors,
                packs=np.stack([packs[n].reshape(-1, 256) for n in anchors.pack_names]),
            )
            _contexts[engine] = ctx
        return ctx


def enroll(engine: Any, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
    """Clone a voice from a prepared reference.

    Parameters
    ----------
    engine : KokoroEngine
        The engine the profile is for (its cloning resources are cached on first use).
    audio : numpy.ndarray
        Prepared reference: float32 mono speech in [-1, 1], trimmed and normalised, 3–30 s.
    sample_rate : int
        Its rate in Hz (8 kHz or more).

    Returns
    -------
    VoiceProfile
        Engine ``kokoro`` version 1 with tensors ``style [510, 256]``, ``speaker_embedding``,
        ``f0_stats``, ``envelope``, ``pack_weights``, ``f0_map``, ``warp``, ``eq``, ``pitch`` and the
        envelope-transfer frames ``knn_keys``, ``knn_envelope``, ``knn_voiced`` (~350 KB for a
        15 s reference); ``meta`` holds a short enrollment report.

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
    ctx = context(engine)
    dvec = ctx.encoder.embed(x, sample_rate)
    feats = analyse(x, sample_rate)
    est = ctx.anchors.estimate(dvec, k=NEIGHBOURS, temperature=TEMPERATURE)
    style = blend(ctx.packs, est.weights)
    warp, eq = fit_envelope(est.envelope, feats["envelope"])
    ref_f0 = feats["log_f0"]
    dst_mean = est.log_f0[0] + F0_SHIFT * (ref_f0[0] - est.log_f0[0])
    dst_std = est.log_f0[1] + F0_STD_MIX * (ref_f0[1] - est.log_f0[1])
    f0_map = np.array([est.log_f0[0], est.log_f0[1], dst_mean, dst_std], np.float32)
    pitch_reliable = float(feats["voiced"][0]) <= MAX_VOICED_FRACTION
    pitch = pitch_factor(float(ref_f0[0]), float(est.log_f0[0])) if pitch_reliable else 1.0
    return VoiceProfile(
        engine="kokoro",
        version=PROFILE_VERSION,
        tensors={
            "style": style,
            "speaker_embedding": dvec.astype(np.float32),
            "f0_stats": ref_f0.astype(np.float32),
            "envelope": feats["envelope"].astype(np.float32),
            "pack_weights": est.weights.astype(np.float32),
            "f0_map": f0_map,
            "warp": np.array([warp], np.float32),
            "eq": eq.astype(np.float32),
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
            "formant_warp": round(warp, 3),
            "nearest_anchor_similarity": round(est.similarity, 3),
            "pack_weights": {
                half: {n: round(float(w), 3) for n, w in zip(ctx.anchors.pack_names, row, strict=True)}
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
        Factor within the engine's ``MIN_PITCH``–``MAX_PITCH``; 1.0 when the two are within the
        tolerance.
    """
    gap = reference_log_f0 - style_log_f0
    excess = max(0.0, abs(gap) - PITCH_TOLERANCE_ST * np.log(2.0) / 12.0)
    return bounded(float(np.exp(np.sign(gap) * excess)), MIN_PITCH, MAX_PITCH)


def fit_envelope(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Formant warp and residual envelope correction taking ``source`` toward ``target``.

    Both are mean-removed natural-log envelopes at :func:`band_edges`. Returns ``(warp, eq)``:
    the warp in ``WARP_RANGE`` that best aligns the envelopes below ``EQ_FIT_HZ`` (with a prior
    toward 1), then the smoothed, clipped, scaled remaining difference.
    """
    centres = band_edges(len(source))
    fit = centres <= EQ_FIT_HZ
    best_warp, best_cost = 1.0, np.inf
    for warp in np.linspace(WARP_RANGE[0], WARP_RANGE[1], 31):
        warped = np.interp(centres / warp, centres, source)
        diff = (target - warped)[fit]
        cost = float(np.mean((diff - diff.mean()) ** 2)) + WARP_PRIOR * float(np.log(warp)) ** 2
        if cost < best_cost:
            best_warp, best_cost = float(warp), cost
    warped = np.interp(centres / best_warp, centres, source)
    diff = target - warped
    kernel = np.ones(5) / 5.0
    smooth = np.convolve(np.pad(diff, 2, mode="edge"), kernel, mode="valid")
    eq = np.clip(EQ_STRENGTH * (smooth - smooth.mean()), -EQ_LIMIT, EQ_LIMIT)
    return best_warp, eq
