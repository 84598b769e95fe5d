"""The engine contract: every engine passes this suite (Kokoro, OuteTTS on tiny weights, the toy).

An engine owns its rules (languages and aliases, speed range, text validation, capabilities,
enrollment, self-check, profile versions); these tests check them through the
:class:`~voxclone.engines.base.Engine` interface alone, the way the service uses it. A new engine
joins by adding a case to ``CASES``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from toy_engine import ToyEngine

from voxclone.engines.base import Engine, Utterance, text_words
from voxclone.errors import InvalidRequest, NotFound, ServiceError
from voxclone.voices.profile import VoiceProfile


@dataclass
class Case:
    """An engine under test, how to clone with it, and a short text in its first language."""

    engine: Engine
    clone: Callable[[np.ndarray, int], VoiceProfile]
    text: str = "Hello there. This is a test."
    voice: VoiceProfile | None = None  # set by the fixture: a built-in voice, else a clone


def _toy(_request: pytest.FixtureRequest) -> Case:
    engine = ToyEngine()
    return Case(engine=engine, clone=engine.enroll)


def _kokoro(request: pytest.FixtureRequest) -> Case:
    engine = request.getfixturevalue("kokoro_engine")
    return Case(engine=engine, clone=engine.enroll)


def _outetts(request: pytest.FixtureRequest) -> Case:
    pytest.importorskip("llama_cpp", reason="voxclone[outetts]; run .ci/outetts.sh")
    pytest.importorskip("torch", reason="the DAC codec needs torch; run .ci/outetts.sh")
    pytest.importorskip("gguf", reason="the test model is written with gguf; run .ci/outetts.sh")
    from outetts_fixtures import write_tiny_dac, write_tiny_gguf

    from voxclone.engines.registry import create_engine
    from voxclone.settings import Settings

    folder: Path = request.getfixturevalue("tmp_path_factory").mktemp("outetts-contract")
    write_tiny_gguf(folder / "OuteTTS-1.0-tiny-random.gguf")
    write_tiny_dac(folder / "weights_24khz_1.5kbps_v1.0.pth")
    engine: Any = create_engine(Settings(engine="outetts", model_path=folder, onnx_threads=1))
    engine.max_new_tokens = 120
    request.addfinalizer(engine.close)

    def clone(audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        # the tiny test model ships no recogniser: give the transcript (enroll() adds only ASR)
        result: VoiceProfile = engine.enroll_with_transcript(audio, sample_rate, transcript="Hello there.")
        return result

    return Case(engine=engine, clone=clone, text="Hello there.")


CASES: dict[str, Callable[[pytest.FixtureRequest], Case]] = {
    "toy": _toy,
    "kokoro": _kokoro,
    "outetts": _outetts,
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    made = CASES[request.param](request)
    voices = made.engine.builtin_voices()
    if voices:
        made.voice = made.engine.builtin_profile(voices[0].voice_id)
    else:  # an engine whose voices all come from cloning speaks with a clone
        made.voice = made.clone(*_reference(made.engine))
    yield made


def _voice(case: Case) -> VoiceProfile:
    assert case.voice is not None
    return case.voice


def _reference(engine: Engine) -> tuple[np.ndarray, int]:
    """About 4 s of speech-like audio: the engine's own first voice when it has one."""
    sr = engine.sample_rate
    voices = engine.builtin_voices()
    if voices:
        text = "Good morning. This is a short recording of my own voice, read slowly and clearly."
        audio = engine.generate(text, engine.builtin_profile(voices[0].voice_id))
        if audio.size >= 3 * sr:
            return audio, sr
    rng = np.random.default_rng(0)
    t = np.arange(int(4 * sr)) / sr
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    audio = (0.2 * env * np.sin(2 * np.pi * 160 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    return audio, sr


# -- languages --------------------------------------------------------------------------------


def test_languages_resolve_to_themselves_case_insensitively(case: Case) -> None:
    engine = case.engine
    assert engine.languages(), "an engine speaks at least one language"
    for code in engine.languages():
        assert engine.resolve_language(code) == code
        assert engine.resolve_language(code.upper()) == code
        assert engine.resolve_language(code.replace("-", "_")) == code
    assert engine.resolve_language(None) is None
    assert engine.resolve_language("  ") is None


def test_regional_tags_and_aliases_resolve(case: Case) -> None:
    engine = case.engine
    for alias, canonical in engine.language_aliases().items():
        assert canonical in engine.languages(), f"alias {alias} points at an unknown language"
        assert engine.resolve_language(alias) == canonical
    first = engine.languages()[0]
    # a region the engine does not list still finds its language through the primary subtag
    assert engine.resolve_language(f"{first}-ZZ") == first


def test_unknown_language_is_refused_with_the_supported_list(case: Case) -> None:
    with pytest.raises(InvalidRequest) as err:
        case.engine.prepare(case.text, _voice(case), language="tlh-Klingon")
    assert err.value.code == "unsupported_language"
    assert case.engine.languages()[0] in err.value.message


# -- speed and text ---------------------------------------------------------------------------


def test_speed_range_is_the_engines_and_enforced(case: Case) -> None:
    engine, voice = case.engine, _voice(case)
    low, high = engine.limits.min_speed, engine.limits.max_speed
    assert 0 < low <= 1.0 <= high
    for speed in (low, high):
        assert isinstance(engine.prepare(case.text, voice, speed=speed), Utterance)
    for speed in (low / 2, high * 2, math.nan, math.inf):
        with pytest.raises(InvalidRequest) as err:
            engine.prepare(case.text, voice, speed=speed)
        assert err.value.code == "invalid_speed"


def test_speed_changes_duration(case: Case) -> None:
    engine, voice = case.engine, _voice(case)
    normal = engine.generate(case.text, voice).size
    fast = engine.generate(case.text, voice, speed=min(2.0, engine.limits.max_speed)).size
    assert fast < normal * 0.8


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "?!… --- ***"])
def test_text_without_words_is_refused_before_any_audio(case: Case, text: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        case.engine.prepare(text, _voice(case))
    assert err.value.code == "empty_text"


def test_text_over_the_engine_limit_is_refused(case: Case) -> None:
    cap = case.engine.limits.max_text_chars
    if cap is None:
        pytest.skip("no engine text limit (the server's max_text_chars applies)")
    with pytest.raises(InvalidRequest) as err:
        case.engine.prepare("word " * (cap // 5 + 1), _voice(case))
    assert err.value.code == "text_too_long"


def test_another_engines_profile_is_refused_at_prepare(case: Case) -> None:
    alien = VoiceProfile("no-such-engine", 1, {"x": np.zeros(4, np.float32)})
    with pytest.raises(ServiceError) as err:
        case.engine.prepare(case.text, alien)
    assert err.value.code in ("incompatible_voice", "invalid_profile")
    assert 400 <= err.value.status < 500


# -- voices -----------------------------------------------------------------------------------


def test_builtin_voices_and_aliases_resolve(case: Case) -> None:
    engine = case.engine
    seen: set[str] = set()
    for info in engine.builtin_voices():
        assert engine.resolve_voice(info.voice_id) == info.voice_id
        assert engine.builtin_profile(info.voice_id).engine == engine.name
        for alias in info.aliases:
            assert alias == alias.lower() and alias not in seen
            seen.add(alias)
            assert engine.resolve_voice(alias) == info.voice_id
            assert engine.resolve_voice(alias.upper()) == info.voice_id
    assert engine.resolve_voice("no-such-voice-anywhere") is None
    with pytest.raises(NotFound):
        engine.builtin_profile("no-such-voice-anywhere")


# -- synthesis --------------------------------------------------------------------------------


def test_stream_equals_whole_and_is_deterministic(case: Case) -> None:
    engine, voice = case.engine, _voice(case)
    chunks = list(engine.stream(engine.prepare(case.text, voice)))
    assert chunks and all(c.dtype == np.float32 and c.ndim == 1 for c in chunks)
    streamed = np.concatenate(chunks)
    whole = engine.generate(case.text, voice)
    np.testing.assert_array_equal(streamed, whole)
    assert np.all(np.isfinite(whole)) and np.abs(whole).max() <= 1.0
    assert whole.size > 0.1 * engine.sample_rate


def test_closing_the_stream_early_stops_it(case: Case) -> None:
    engine, voice = case.engine, _voice(case)
    stream = engine.stream(engine.prepare(case.text, voice))
    first = next(iter(stream))
    assert first.size > 0
    close = getattr(stream, "close", None)
    assert callable(close), "stream() returns a generator (closing it stops synthesis)"
    close()
    with pytest.raises(StopIteration):
        next(stream)


# -- cloning ----------------------------------------------------------------------------------


def test_enrollment_round_trip(case: Case) -> None:
    engine = case.engine
    if not engine.capabilities.cloning:
        with pytest.raises(ServiceError) as err:
            engine.enroll(*_reference(engine))
        assert err.value.code == "cloning_unavailable"
        return
    audio, sr = _reference(engine)
    profile = case.clone(audio, sr)
    again = VoiceProfile.from_bytes(profile.to_bytes())
    assert again.engine == engine.name and again.version == profile.version
    a = engine.generate(case.text, profile)
    b = engine.generate(case.text, again)
    np.testing.assert_array_equal(a, b)
    assert a.size > 0


def test_self_check_is_in_range_or_declared_absent(case: Case) -> None:
    engine = case.engine
    if not engine.capabilities.cloning:
        pytest.skip("no cloning")
    audio, sr = _reference(engine)
    score = engine.self_check(case.clone(audio, sr), audio, sr)
    if engine.capabilities.self_check:
        assert score is not None and 0.0 <= score <= 1.0
    else:
        assert score is None


def test_a_profile_of_an_older_version_is_outdated_and_refused(case: Case) -> None:
    """An engine keeps no code for what its profiles meant before :attr:`Engine.profile_version`:
    older profiles are outdated (the service re-enrolls them) and refused with 409 ``voice_outdated``."""
    engine, voice = case.engine, _voice(case)
    assert voice.version == engine.profile_version and not engine.profile_outdated(voice)
    older = VoiceProfile(engine.name, engine.profile_version - 1, dict(voice.tensors), dict(voice.meta))
    assert engine.profile_outdated(older)
    with pytest.raises(ServiceError) as err:
        engine.prepare(case.text, older)
    assert (err.value.code, err.value.status) == ("voice_outdated", 409)
    assert not engine.profile_outdated(VoiceProfile("no-such-engine", 0, dict(voice.tensors)))


def test_info_declares_capabilities_and_limits(case: Case) -> None:
    info = case.engine.info()
    caps = info["capabilities"]
    assert isinstance(caps, dict) and set(caps) >= {"cloning", "self_check", "timestamps", "streaming"}
    assert info["languages"] == list(case.engine.languages())
    if not case.engine.capabilities.timestamps:
        assert caps["timestamps"] is False


def test_timestamps_cover_the_text_in_order_or_are_declared_absent(case: Case) -> None:
    engine, voice = case.engine, _voice(case)
    utterance = engine.prepare(case.text, voice)
    if not engine.capabilities.timestamps:
        with pytest.raises(InvalidRequest) as err:
            list(engine.stream_timed(utterance))
        assert err.value.code == "timestamps_unavailable"
        return
    chunks = list(engine.stream_timed(utterance))
    np.testing.assert_array_equal(
        np.concatenate([c.audio for c in chunks]), np.concatenate(list(engine.stream(utterance)))
    )
    words = [w.word for c in chunks for w in c.words]
    assert words == text_words(case.text)
    for c in chunks:
        duration = c.audio.size / engine.sample_rate
        for w in c.words:
            assert 0.0 <= w.start <= w.end <= duration + 1e-3
