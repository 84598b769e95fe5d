"""KokoroEngine: voices, streaming, determinism, levels, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.engines.kokoro.profile import PROFILE_VERSION
from voxclone.errors import InvalidRequest, NotFound
from voxclone.voices.profile import VoiceProfile

SR = 24000
SHORT = "Good morning. The weather is fine today."


def _speech_seconds(audio: np.ndarray) -> float:
    frame = SR // 50
    n = audio.size // frame
    rms = np.sqrt(np.mean(np.square(audio[: n * frame].reshape(n, frame)), axis=1))
    return float(np.sum(rms > 0.01)) / 50


def test_languages_and_aliases(kokoro_engine: KokoroEngine) -> None:
    assert set(kokoro_engine.languages()) >= {"en-us", "en-gb", "es", "fr", "it", "pt-br", "hi", "ja"}


def test_builtin_voices_have_stable_ids_and_profiles(kokoro_engine: KokoroEngine) -> None:
    infos = kokoro_engine.builtin_voices()
    ids = [v.voice_id for v in infos]
    assert {"en-female-1", "en-male-1", "en-male-2"} <= set(ids)
    assert len(ids) == len(set(ids)) >= 7
    for info in infos:
        assert info.gender in ("female", "male") and info.name and info.description
        profile = kokoro_engine.builtin_profile(info.voice_id)
        assert (profile.engine, profile.version) == ("kokoro", PROFILE_VERSION)
        assert profile.tensors["style"].shape == (510, 256)
        assert profile.tensors["style"].dtype == np.float32
        restored = VoiceProfile.from_bytes(profile.to_bytes())
        np.testing.assert_array_equal(restored.tensors["style"], profile.tensors["style"])


def test_unknown_voice_is_not_found(kokoro_engine: KokoroEngine) -> None:
    with pytest.raises(NotFound) as e:
        kokoro_engine.builtin_profile("nope")
    assert e.value.code == "voice_not_found"


def test_stream_concatenates_to_generate_and_is_deterministic(kokoro_engine: KokoroEngine) -> None:
    voice = kokoro_engine.builtin_profile("en-female-1")
    text = "Hello there, my dear old friend from the countryside. Streaming works."
    chunks = list(kokoro_engine.synthesize(text, voice, language="en-us"))
    assert len(chunks) >= 3  # short first chunk, then sentences
    assert chunks[0].size < chunks[1].size + chunks[2].size
    # a second, independent run: equality shows both stream == whole file and determinism
    whole = kokoro_engine.generate(text, voice, language="en-us")
    np.testing.assert_array_equal(np.concatenate(chunks), whole)
    assert whole.dtype == np.float32


def test_output_is_levelled_and_never_clips(kokoro_engine: KokoroEngine) -> None:
    # jm_kumo peaks above 1.0 raw
    voice = kokoro_engine.builtin_profile("en-male-1")
    text = "Stop! Look at this enormous thing. It is incredible."
    chunks = list(kokoro_engine.synthesize(text, voice, language="en-us"))
    peaks = [float(np.max(np.abs(c))) for c in chunks]
    assert max(peaks) < 1.0
    from voxclone.engines.kokoro.level import active_rms

    levels_db = [20 * np.log10(active_rms(c, SR)) for c in chunks]
    assert max(levels_db) - min(levels_db) < 3.5
    assert all(-21 < level < -14 for level in levels_db)


def test_speed_changes_duration_and_is_range_checked(kokoro_engine: KokoroEngine) -> None:
    voice = kokoro_engine.builtin_profile("en-female-2")
    normal = kokoro_engine.generate(SHORT, voice, language="en-us")
    fast = kokoro_engine.generate(SHORT, voice, language="en-us", speed=2.0)
    assert fast.size < 0.7 * normal.size
    # beyond what the model renders (0.5-2.0) the engine stretches the rest itself
    faster = kokoro_engine.generate(SHORT, voice, language="en-us", speed=4.0)
    assert faster.size < 0.7 * fast.size
    for bad in (0.24, 4.01, 0.0, float("nan")):
        with pytest.raises(InvalidRequest) as e:
            kokoro_engine.synthesize(SHORT, voice, speed=bad)
        assert e.value.code == "invalid_speed"


@pytest.mark.parametrize(
    ("text", "language", "code"),
    [
        ("", None, "empty_text"),
        ("   \n ", "en-us", "empty_text"),
        ("?!... ,;", "en-us", "empty_text"),
        ("😀🎉👍", None, "empty_text"),
        ("Hello", "xx", "unsupported_language"),
        ("Hello", "klingon", "unsupported_language"),
    ],
)
def test_bad_input_raises_before_streaming(
    kokoro_engine: KokoroEngine, text: str, language: str | None, code: str
) -> None:
    voice = kokoro_engine.builtin_profile("en-female-1")
    with pytest.raises(InvalidRequest) as e:
        kokoro_engine.synthesize(text, voice, language=language)
    assert e.value.code == code


def test_incompatible_profile_rejected(kokoro_engine: KokoroEngine) -> None:
    bad = VoiceProfile(engine="outetts", version=1, tensors={"style": np.zeros((510, 256), np.float32)})
    with pytest.raises(InvalidRequest) as e:
        kokoro_engine.synthesize("Hello.", bad)
    assert e.value.code == "incompatible_voice"


def test_emoji_mixed_with_words_is_spoken(kokoro_engine: KokoroEngine) -> None:
    voice = kokoro_engine.builtin_profile("en-female-3")
    audio = kokoro_engine.generate("Great job 🎉 everyone!", voice, language="en-us")
    assert _speech_seconds(audio) > 0.5


def test_very_long_text_streams_lazily(kokoro_engine: KokoroEngine) -> None:
    voice = kokoro_engine.builtin_profile("en-female-1")
    text = ("This sentence repeats to make a very long text, far beyond any request. " * 1400)[:100_000]
    stream = kokoro_engine.synthesize(text, voice, language="en-us")
    first, second = next(stream), next(stream)
    stream.close()
    assert first.size > 0 and second.size > 0


def test_openai_voice_names_are_aliases_of_builtin_voices(kokoro_engine: KokoroEngine) -> None:
    from voxclone.engines.openai_voices import OPENAI_VOICES

    infos = {v.voice_id: v for v in kokoro_engine.builtin_voices()}
    owner = {alias: v.voice_id for v in infos.values() for alias in v.aliases}
    assert sum(len(v.aliases) for v in infos.values()) == len(owner)  # no alias on two voices
    assert not set(owner) & set(infos)  # no alias shadows a voice id
    for voice in OPENAI_VOICES:
        vid = owner[voice.name]
        assert kokoro_engine.resolve_voice(voice.name) == vid
        if voice.gender != "neutral":
            assert infos[vid].gender == voice.gender, voice.name
    assert kokoro_engine.resolve_voice("en-male-1") == "en-male-1"
    assert kokoro_engine.resolve_voice("nope") is None
    assert kokoro_engine.resolve_voice("Alloy") == owner["alloy"]  # names match case-insensitively
    alloy = kokoro_engine.builtin_profile("alloy")
    target = kokoro_engine.builtin_profile(owner["alloy"])
    np.testing.assert_array_equal(alloy.tensors["style"], target.tensors["style"])
    assert alloy.meta == target.meta and alloy.meta["voice_id"] == owner["alloy"]
