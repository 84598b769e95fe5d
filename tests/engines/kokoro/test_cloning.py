"""Kokoro cloning: enrollment, the post-synthesis stage and the self-check, on the real engine.

References are the engine's own renders of built-in voices (no ``../shared`` data).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voxclone.engines.kokoro.cloning import METHOD, KokoroCloner, similarity
from voxclone.engines.kokoro.profile import PROFILE_VERSION
from voxclone.errors import ProfileOutdated, Unprocessable
from voxclone.voices.profile import VoiceProfile

MALE_TEXT = (
    "I walked down to the harbour this morning to watch the fishing boats come in, "
    "and the air smelled of salt and rain."
)


@pytest.fixture(scope="module")
def cloner(kokoro_engine: Any) -> KokoroCloner:
    built: KokoroCloner = kokoro_engine.cloner
    return built


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


# What a current profile holds: exactly what the method reads (style, pitch, the transfer's frames)
# plus the reference statistics; version 1 also carried f0_map / warp / eq for retired stages.
CLONE_TENSORS = {
    "style",
    "pitch",
    "speaker_embedding",
    "f0_stats",
    "envelope",
    "pack_weights",
    "knn_keys",
    "knn_envelope",
    "knn_voiced",
}


def test_enroll_is_deterministic_and_round_trips(kokoro_engine: Any, female_reference: tuple) -> None:
    a = kokoro_engine.enroll(*female_reference)
    b = kokoro_engine.enroll(*female_reference)
    assert (a.engine, a.version, a.meta["method"]) == ("kokoro", PROFILE_VERSION, METHOD)
    assert PROFILE_VERSION == 2
    assert a.tensors["style"].shape == (510, 256) and a.tensors["style"].dtype == np.float32
    assert set(a.tensors) == set(b.tensors) == CLONE_TENSORS
    for name in a.tensors:
        np.testing.assert_array_equal(a.tensors[name], b.tensors[name])
    back = VoiceProfile.from_bytes(a.to_bytes())
    assert back.meta == a.meta
    for name in a.tensors:
        np.testing.assert_array_equal(back.tensors[name], a.tensors[name])
    assert a.meta == b.meta


def test_enroll_rejects_silence(kokoro_engine: Any) -> None:
    with pytest.raises(Unprocessable) as info:
        kokoro_engine.enroll(np.zeros(24000 * 3, np.float32), 24000)
    assert info.value.code == "reference_too_short"


def test_pack_voice_lands_near_its_pack(male_clone: VoiceProfile) -> None:
    timbre = male_clone.meta["pack_weights"]["timbre"]
    assert max(timbre, key=timbre.get) == "jm_kumo"
    assert male_clone.meta["nearest_anchor_similarity"] > 0.8
    assert 70.0 < male_clone.meta["reference_f0_hz"] < 160.0


def test_pitch_factor_closes_only_the_gap_beyond_the_tolerance() -> None:
    from voxclone.engines.kokoro.cloning.enrollment import PITCH_TOLERANCE_ST, pitch_factor

    semitone = np.log(2.0) / 12.0
    style = np.log(220.0)
    assert pitch_factor(style - (PITCH_TOLERANCE_ST - 0.5) * semitone, style) == 1.0
    assert pitch_factor(style + (PITCH_TOLERANCE_ST - 0.5) * semitone, style) == 1.0
    down = pitch_factor(style - (PITCH_TOLERANCE_ST + 6.0) * semitone, style)
    assert down == pytest.approx(2.0 ** (-6.0 / 12.0), rel=1e-6)
    up = pitch_factor(style + (PITCH_TOLERANCE_ST + 3.0) * semitone, style)
    assert up == pytest.approx(2.0 ** (3.0 / 12.0), rel=1e-6)
    assert pitch_factor(np.log(40.0), style) == 0.5  # clipped to the model's safe range
    assert pitch_factor(float("nan"), style) == 1.0


def test_low_voice_mapped_to_a_high_style_is_lowered(kokoro_engine: Any, male_clone: VoiceProfile) -> None:
    """A style 4 semitones beyond the tolerance above its reference renders 4 semitones lower."""
    from pitch_track import median_f0

    from voxclone.engines.kokoro.cloning.enrollment import PITCH_TOLERANCE_ST, pitch_factor

    style = kokoro_engine.builtin_profile("en-female-1").tensors["style"]
    factor = pitch_factor(np.log(240.0 / 2.0 ** ((PITCH_TOLERANCE_ST + 4.0) / 12.0)), np.log(240.0))
    assert factor == pytest.approx(2.0 ** (-4.0 / 12.0), rel=1e-5)
    tensors = {"style": style, "pitch": np.array([factor], np.float32)}
    high = kokoro_engine.generate(
        MALE_TEXT, VoiceProfile("kokoro", PROFILE_VERSION, {"style": style}), language="en-us"
    )
    low = kokoro_engine.generate(
        MALE_TEXT, VoiceProfile("kokoro", PROFILE_VERSION, tensors), language="en-us"
    )
    ratio = median_f0(low, kokoro_engine.sample_rate) / median_f0(high, kokoro_engine.sample_rate)
    assert 0.7 < ratio < 0.88
    assert abs(low.size - high.size) < 0.05 * high.size
    assert float(male_clone.tensors["pitch"][0]) == 1.0  # en-male-1 maps near its own pack's pitch


def test_unreliable_reference_pitch_leaves_the_style_pitch(kokoro_engine: Any) -> None:
    """A reference "voiced" in every frame (a hum being tracked, not speech) gets no pitch change."""
    sr = 24000
    t = np.arange(int(6.0 * sr)) / sr
    rng = np.random.default_rng(0)
    hum = 0.3 * np.sin(2 * np.pi * 70.0 * t) + 0.2 * np.sin(2 * np.pi * 140.0 * t)
    audio = (hum + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    profile = kokoro_engine.enroll(audio, sr)
    assert profile.meta["reference_f0_hz"] < 100.0
    assert float(profile.tensors["pitch"][0]) == 1.0


def test_postprocess_passes_builtin_profiles_and_short_chunks(
    kokoro_engine: Any, cloner: KokoroCloner, male_clone: VoiceProfile
) -> None:
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, 24000).astype(np.float32)
    assert cloner.postprocess(audio, kokoro_engine.builtin_profile("en-female-1"), 24000) is audio
    short = audio[:500]
    np.testing.assert_array_equal(cloner.postprocess(short, male_clone, 24000), short)


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


# -- content-matched envelope transfer (knn-v2) ------------------------------------------------


def _voiced(seconds: float, f0: float, formants: tuple[float, ...], sr: int, seed: int) -> np.ndarray:
    """A pulse train with slow pitch movement through formant resonators, plus breath noise."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    inst = f0 * (1 + 0.08 * np.sin(2 * np.pi * 1.3 * t))
    phase = np.cumsum(inst) / sr
    x = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
    x += 0.02 * rng.standard_normal(n)
    for fc in formants:
        r = np.exp(-np.pi * 120.0 / sr)
        a = [1.0, -2 * r * np.cos(2 * np.pi * fc / sr), r * r]
        x = lfilter([1.0 - r], a, x)
    x *= 0.5 * (1 + np.sin(2 * np.pi * 2.0 * t) ** 2)  # syllable-like level movement
    return (0.8 * x / np.abs(x).max()).astype(np.float32)


def _mean_shape(audio: np.ndarray, sr: int) -> np.ndarray:
    from voxclone.audio.speaker import resample
    from voxclone.engines.kokoro.cloning.envelope import RATE, analyse

    fr = analyse(resample(audio, sr, RATE))
    shape: np.ndarray = fr.envelope[fr.sounding].mean(axis=0)
    return shape


def test_transfer_moves_the_envelope_toward_the_reference(cloner: KokoroCloner) -> None:
    from voxclone.engines.kokoro.cloning.envelope import reference_frames

    sr = 24000
    reference = _voiced(6.0, 110.0, (500.0, 1500.0, 2500.0), sr, seed=1)
    source = _voiced(3.0, 200.0, (800.0, 2200.0, 3300.0), sr, seed=2)
    tensors = {"style": np.zeros((510, 256), np.float32), **reference_frames(reference, sr)}
    out = cloner.postprocess(source, VoiceProfile("kokoro", PROFILE_VERSION, tensors), sr)
    assert out.shape == source.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out)) and np.abs(out).max() <= 0.99
    target = _mean_shape(reference, sr)
    before = float(np.sqrt(np.mean((_mean_shape(source, sr) - target) ** 2)))
    after = float(np.sqrt(np.mean((_mean_shape(out, sr) - target) ** 2)))
    assert after < 0.6 * before


def test_transfer_is_chunk_local_and_deterministic(
    cloner: KokoroCloner, male_clone: VoiceProfile, female_reference: tuple
) -> None:
    audio, sr = female_reference
    a, b = audio[: sr * 2], audio[sr * 2 : sr * 4]
    first = cloner.postprocess(a, male_clone, sr)
    cloner.postprocess(b, male_clone, sr)  # another chunk in between must not change anything
    np.testing.assert_array_equal(cloner.postprocess(a, male_clone, sr), first)
    assert not np.array_equal(first, a)  # the stage did something
    assert first.shape == a.shape
    silent = np.zeros(sr, np.float32)
    np.testing.assert_array_equal(cloner.postprocess(silent, male_clone, sr), silent)


def test_clone_profile_carries_the_reference_frames(male_clone: VoiceProfile) -> None:
    from voxclone.engines.kokoro.cloning.envelope import N_MELS

    t = male_clone.tensors
    assert male_clone.meta["method"] == METHOD == "anchors+knn+pitch-v4"
    n = t["knn_keys"].shape[0]
    assert n > 300 and t["knn_keys"].shape == (n, 57)
    assert t["knn_envelope"].shape == (n, N_MELS) and t["knn_voiced"].shape == (n,)
    assert 0.3 < float(t["knn_voiced"].mean()) < 1.0
    assert sum(v.nbytes for v in t.values()) < 1_000_000


def test_profiles_of_an_older_version_are_refused_as_outdated(
    kokoro_engine: Any, male_clone: VoiceProfile
) -> None:
    """No rendering code is kept for retired methods: a version-1 profile (stored by an older
    voxclone) is recognised as outdated, to be re-enrolled from its reference audio."""
    from voxclone.engines.kokoro.profile import is_outdated

    old_tensors = {k: v for k, v in male_clone.tensors.items() if not k.startswith("knn_")}
    for tensors, method in ((old_tensors, "anchors+eq-v1"), (male_clone.tensors, METHOD)):
        saved = VoiceProfile("kokoro", 1, tensors, {"method": method}).to_bytes()
        old = VoiceProfile.from_bytes(saved)
        assert old.version == 1 and is_outdated(old)
        with pytest.raises(ProfileOutdated) as e:
            kokoro_engine.synthesize("The weather was mild.", old, language="en-us")
        assert e.value.code == "voice_outdated" and e.value.status == 409
        assert (e.value.found, e.value.current) == (1, kokoro_engine.profile_version)
        with pytest.raises(ProfileOutdated):
            kokoro_engine.check_profile(old)
    assert not is_outdated(male_clone)
    kokoro_engine.check_profile(male_clone)


def test_selfcheck_holds_out_half_of_its_own_reference(
    kokoro_engine: Any, male_clone: VoiceProfile, male_reference: tuple, female_reference: tuple
) -> None:
    from voxclone.engines.kokoro.cloning.selfcheck import _enrolled_from

    encoder = kokoro_engine.speaker_encoder
    assert _enrolled_from(male_clone, encoder.embed(*male_reference))
    assert not _enrolled_from(male_clone, encoder.embed(*female_reference))
    old = VoiceProfile(
        "kokoro", PROFILE_VERSION, {k: v for k, v in male_clone.tensors.items() if not k.startswith("knn_")}
    )
    assert not _enrolled_from(old, encoder.embed(*male_reference))


def test_a_profile_cannot_pin_other_transfer_settings(cloner: KokoroCloner) -> None:
    """The transfer's settings are the code's: a ``knn_settings`` tensor (once a benchmark knob)
    changes nothing, and frames of another shape leave the chunk unchanged."""
    from voxclone.engines.kokoro.cloning import envelope

    sr = 24000
    reference = _voiced(4.0, 120.0, (600.0, 1700.0, 2600.0), sr, seed=3)
    source = _voiced(2.0, 190.0, (750.0, 2100.0, 3100.0), sr, seed=4)
    tensors = {"style": np.zeros((510, 256), np.float32), **envelope.reference_frames(reference, sr)}
    plain = cloner.postprocess(source, VoiceProfile("kokoro", PROFILE_VERSION, tensors), sr)
    assert not np.array_equal(plain, source)
    sharp = dict(tensors, knn_settings=np.array([1.0, 1.0, 6.0, 1.0], np.float32))
    pinned = cloner.postprocess(source, VoiceProfile("kokoro", PROFILE_VERSION, sharp), sr)
    np.testing.assert_array_equal(pinned, plain)
    # frames this code did not write (19-value keys, without context) leave the chunk unchanged
    for keys in (tensors["knn_keys"][:, 19:38], tensors["knn_keys"][:, :7]):
        broken = dict(tensors, knn_keys=keys)
        np.testing.assert_array_equal(envelope.transfer(source, sr, broken), source.astype(np.float64))
