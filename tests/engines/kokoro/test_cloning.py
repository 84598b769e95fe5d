"""Kokoro cloning: enrollment, the post-synthesis stage and the self-check, on the real engine.

References are the engine's own renders of built-in voices (no ``../shared`` data).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voxclone.engines.kokoro.cloning import enroll, postprocess, similarity
from voxclone.engines.kokoro.cloning.features import ANALYSIS_RATE, pitch
from voxclone.errors import Unprocessable
from voxclone.voices.profile import VoiceProfile

MALE_TEXT = (
    "I walked down to the harbour this morning to watch the fishing boats come in, "
    "and the air smelled of salt and rain."
)


@pytest.fixture(scope="module")
def female_reference(reference_wav: bytes) -> tuple[np.ndarray, int]:
    audio, sr = sf.read(io.BytesIO(reference_wav), dtype="float32")
    return audio, int(sr)


@pytest.fixture(scope="module")
def male_reference(kokoro_engine: Any) -> tuple[np.ndarray, int]:
    audio = kokoro_engine.generate(MALE_TEXT, kokoro_engine.builtin_profile("en-male-1"), language="en-us")
    return audio, kokoro_engine.sample_rate


@pytest.fixture(scope="module")
def male_clone(kokoro_engine: Any, male_reference: tuple[np.ndarray, int]) -> VoiceProfile:
    profile: VoiceProfile = kokoro_engine.enroll(*male_reference)
    return profile


def test_enroll_is_deterministic_and_round_trips(kokoro_engine: Any, female_reference: tuple) -> None:
    a = enroll(kokoro_engine, *female_reference)
    b = enroll(kokoro_engine, *female_reference)
    assert a.engine == "kokoro" and a.version == 1
    assert a.tensors["style"].shape == (510, 256) and a.tensors["style"].dtype == np.float32
    assert set(a.tensors) == set(b.tensors)
    for name in a.tensors:
        np.testing.assert_array_equal(a.tensors[name], b.tensors[name])
    back = VoiceProfile.from_bytes(a.to_bytes())
    assert back.meta == a.meta
    for name in a.tensors:
        np.testing.assert_array_equal(back.tensors[name], a.tensors[name])
    assert a.meta == b.meta


def test_enroll_rejects_silence(kokoro_engine: Any) -> None:
    with pytest.raises(Unprocessable) as info:
        enroll(kokoro_engine, np.zeros(24000 * 3, np.float32), 24000)
    assert info.value.code == "reference_too_short"


def test_pack_voice_lands_near_its_pack(male_clone: VoiceProfile) -> None:
    timbre = male_clone.meta["pack_weights"]["timbre"]
    assert max(timbre, key=timbre.get) == "jm_kumo"
    assert male_clone.meta["nearest_anchor_similarity"] > 0.8
    assert 70.0 < male_clone.meta["reference_f0_hz"] < 160.0


def test_postprocess_maps_pitch_keeps_length_and_never_clips() -> None:
    sr = 24000
    t = np.arange(int(1.5 * sr)) / sr
    f0 = 200.0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    audio = sum(np.sin(k * phase) / k for k in range(1, 12)).astype(np.float32)
    audio *= 0.98 / np.abs(audio).max()
    profile = VoiceProfile(
        "kokoro",
        1,
        {
            "style": np.zeros((510, 256), np.float32),
            "f0_map": np.array([np.log(200.0), 0.05, np.log(120.0), 0.05], np.float32),
            "warp": np.array([0.92], np.float32),
            "eq": np.linspace(1.5, -1.5, 48).astype(np.float32),
        },
    )
    out = postprocess(audio, profile, sr)
    assert out.shape == audio.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out)) and np.abs(out).max() <= 0.99
    from voxclone.audio.speaker import resample

    track, _ = pitch(resample(out, sr, ANALYSIS_RATE))
    voiced = track[track > 0]
    assert voiced.size > 50
    assert 105.0 < float(np.median(voiced)) < 135.0


def test_postprocess_passes_builtin_profiles_and_short_chunks(
    kokoro_engine: Any, male_clone: VoiceProfile
) -> None:
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, 24000).astype(np.float32)
    assert postprocess(audio, kokoro_engine.builtin_profile("en-female-1"), 24000) is audio
    short = audio[:500]
    np.testing.assert_array_equal(postprocess(short, male_clone, 24000), short)


def test_clone_speaks_another_language(kokoro_engine: Any, male_clone: VoiceProfile) -> None:
    audio = kokoro_engine.generate("Hola, me llamo Pablo y vivo en Madrid.", male_clone, language="es")
    seconds = audio.size / kokoro_engine.sample_rate
    assert 1.0 < seconds < 8.0
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() < 1.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.01


def test_similarity_prefers_the_matching_speaker(
    kokoro_engine: Any, male_clone: VoiceProfile, male_reference: tuple, female_reference: tuple
) -> None:
    same = similarity(kokoro_engine, male_clone, *male_reference)
    other = similarity(kokoro_engine, male_clone, *female_reference)
    assert 0.0 <= other <= 1.0 and 0.0 <= same <= 1.0
    assert same > other
    assert same > 0.5


def test_envelope_correction_tilts_the_spectrum() -> None:
    sr = 24000
    audio = (np.random.default_rng(1).standard_normal(sr) * 0.1).astype(np.float32)
    eq = np.linspace(-1.5, 1.5, 48).astype(np.float32)  # cut lows, boost highs
    flat = np.array([0.0, 1.0, 0.0, 1.0], np.float32)
    profile = VoiceProfile("kokoro", 1, {"style": np.zeros((510, 256), np.float32), "f0_map": flat, "eq": eq})
    out = postprocess(audio, profile, sr)
    assert out.shape == audio.shape and np.abs(out).max() <= 0.99

    def band_power(x: np.ndarray, lo: float, hi: float) -> float:
        spec = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(x.size, 1 / sr)
        return float(spec[(f >= lo) & (f < hi)].mean())

    ratio_in = band_power(audio, 5000, 7000) / band_power(audio, 100, 400)
    ratio_out = band_power(out, 5000, 7000) / band_power(out, 100, 400)
    assert ratio_out > 4.0 * ratio_in
