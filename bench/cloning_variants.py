"""Benchmark-only cloning variants: retired or rejected post-stages, kept here to re-measure them.

The runtime package ships one method (``voxclone.engines.kokoro.cloning``); the variants the
cloning benchmarks compare it with live here, built on its public API:

- ``full``: the shipped method.
- ``nopitch``: without the pitch factor (``anchors+knn-v2``): the style's own pitch.
- ``eq``: the global envelope correction of ``anchors+eq-v1`` instead of the transfer: the smoothed
  difference between the reference's envelope and the anchors' expected one, as a zero-phase FIR.
- ``style``: the enrolled style alone, no post-stage.
- ``sharp``: the transfer closer to frame copying (k=1, ±17 dB clip, 30 ms smoothing).

:func:`bench_engine` builds a Kokoro engine whose cloner also renders the ``eq`` and ``sharp``
variants (marked in the profile's ``meta["bench_variant"]``); :func:`variant_profile` derives a
variant's profile from an enrolled one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voxclone.engines.kokoro.cloning import KokoroCloner
from voxclone.engines.kokoro.cloning.cloner import MIN_SAMPLES
from voxclone.engines.kokoro.cloning.enrollment import NEIGHBOURS, TEMPERATURE
from voxclone.engines.kokoro.cloning.envelope import TransferSettings, limit_peak, transfer
from voxclone.engines.kokoro.cloning.features import band_edges
from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.settings import Settings
from voxclone.voices.profile import VoiceProfile

VARIANTS = ("full", "nopitch", "eq", "style", "sharp")
SHARP = TransferSettings(strength=1.0, k=1, limit=4.0, smooth_frames=3)
EQ_STRENGTH = 0.7
EQ_LIMIT = 2.0  # natural-log power, about ±8.7 dB
FIR_TAPS = 511


class VariantCloner(KokoroCloner):
    """The shipped cloner, plus the ``eq`` and ``sharp`` post-stages for marked profiles."""

    @classmethod
    def of(cls, cloner: KokoroCloner) -> VariantCloner:
        return cls(
            encoder=cloner.encoder,
            anchors=cloner.anchors,
            packs=dict(zip(cloner.anchors.pack_names, cloner.packs, strict=True)),
        )

    @staticmethod
    def applies_to(profile: VoiceProfile) -> bool:
        return "eq" in profile.tensors or KokoroCloner.applies_to(profile)

    def postprocess(self, audio: np.ndarray, profile: VoiceProfile, sample_rate: int) -> np.ndarray:
        variant = profile.meta.get("bench_variant")
        if variant not in ("eq", "sharp"):
            return super().postprocess(audio, profile, sample_rate)
        if audio.size < MIN_SAMPLES or not np.any(audio):
            return audio
        x = np.asarray(audio, np.float64)
        if variant == "eq":
            return limit_peak(equalise(x, sample_rate, np.asarray(profile.tensors["eq"], np.float64)))
        return limit_peak(transfer(limit_peak(x), sample_rate, profile.tensors, SHARP))


def bench_engine(*, data_dir: Path, threads: int) -> KokoroEngine:
    """The engine the server builds, its cloner able to render every variant."""
    base = KokoroEngine.from_settings(Settings(data_dir=data_dir, onnx_threads=threads))
    assert base.cloner is not None
    return KokoroEngine(base.model, frontend=base.frontend, cloner=VariantCloner.of(base.cloner))


def variant_profile(engine: KokoroEngine, profile: VoiceProfile, variant: str) -> VoiceProfile:
    """The profile a variant renders with (see the module docstring)."""
    version = profile.version
    if variant == "style":
        return VoiceProfile("kokoro", version, {"style": profile.tensors["style"]}, {})
    if variant == "sharp":
        return VoiceProfile("kokoro", version, profile.tensors, dict(profile.meta, bench_variant="sharp"))
    if variant == "nopitch":  # the previous method: the style's own pitch
        kept = {k: v for k, v in profile.tensors.items() if k != "pitch"}
        return VoiceProfile("kokoro", version, kept, dict(profile.meta, method="anchors+knn-v2"))
    if variant == "eq":
        assert engine.cloner is not None
        kept = {k: v for k, v in profile.tensors.items() if not k.startswith("knn_") and k != "pitch"}
        est = engine.cloner.anchors.estimate(
            profile.tensors["speaker_embedding"], k=NEIGHBOURS, temperature=TEMPERATURE
        )
        kept["eq"] = fit_eq(est.envelope, profile.tensors["envelope"]).astype(np.float32)
        meta = dict(profile.meta, method="anchors+eq-v1", bench_variant="eq")
        return VoiceProfile("kokoro", version, kept, meta)
    if variant != "full":
        raise SystemExit(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    return profile


def fit_eq(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Envelope correction taking ``source`` toward ``target`` (mean-removed natural-log envelopes
    at :func:`band_edges`): their difference, smoothed over 5 bands, scaled and clipped."""
    diff = np.asarray(target, np.float64) - np.asarray(source, np.float64)
    kernel = np.ones(5) / 5.0
    smooth = np.convolve(np.pad(diff, 2, mode="edge"), kernel, mode="valid")
    eq: np.ndarray = np.clip(EQ_STRENGTH * (smooth - smooth.mean()), -EQ_LIMIT, EQ_LIMIT)
    return eq


def equalise(x: np.ndarray, sample_rate: int, eq: np.ndarray) -> np.ndarray:
    """Filter ``x`` with the smooth gain ``exp(eq / 2)`` (eq in log power at the band centres):
    zero-phase FIR (``FIR_TAPS`` taps, Hann-windowed), same length as the input."""
    from scipy.signal import oaconvolve

    if not eq.size or not np.any(eq):
        return x
    freqs = np.linspace(0.0, sample_rate / 2, FIR_TAPS // 2 + 1)
    gain = np.exp(np.interp(freqs, band_edges(len(eq)), eq) / 2.0)
    h = np.fft.irfft(gain, FIR_TAPS)
    h = np.roll(h, FIR_TAPS // 2) * np.hanning(FIR_TAPS)
    out: np.ndarray = oaconvolve(x, h, mode="same")
    return out
