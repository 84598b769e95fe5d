"""Every built-in voice and every language produces speech of plausible length; concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from voxclone.engines.kokoro.engine import KokoroEngine

SR = 24000


def _voiced_seconds(audio: np.ndarray) -> float:
    frame = SR // 50
    n = audio.size // frame
    rms = np.sqrt(np.mean(np.square(audio[: n * frame].reshape(n, frame)), axis=1))
    return float(np.sum(rms > 0.02)) / 50


@pytest.mark.slow
def test_every_builtin_voice_speaks(kokoro_engine: KokoroEngine) -> None:
    text = "Thank you for calling."
    for info in kokoro_engine.builtin_voices():
        audio = kokoro_engine.generate(text, kokoro_engine.builtin_profile(info.voice_id), language="en-us")
        seconds = audio.size / SR
        assert 0.7 < seconds < 3.0, (info.voice_id, seconds)
        assert _voiced_seconds(audio) > 0.5 * seconds, info.voice_id
        assert np.max(np.abs(audio)) < 1.0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en-gb", "The garden looks lovely today."),
        ("es", "El jardín está precioso hoy."),
        ("fr", "Le jardin est magnifique aujourd'hui."),
        ("it", "Il giardino è bellissimo oggi."),
        ("pt-br", "O jardim está lindo hoje."),
        ("hi", "आज बगीचा बहुत सुंदर है।"),
        ("ja", "今日は庭がとてもきれいです。"),
    ],
)
def test_every_language_speaks_with_plausible_duration(
    kokoro_engine: KokoroEngine, language: str, text: str
) -> None:
    audio = kokoro_engine.generate(text, kokoro_engine.builtin_profile("en-female-2"), language=language)
    seconds = audio.size / SR
    per_char = seconds / len(text)
    # Latin scripts run about 0.05-0.09 s per character; kana/kanji and Devanagari denser
    low, high = (0.03, 0.15) if language not in ("ja", "hi") else (0.06, 0.4)
    assert low < per_char < high, (language, seconds)
    assert _voiced_seconds(audio) > 0.5 * seconds


def test_concurrent_requests_match_sequential(kokoro_engine: KokoroEngine) -> None:
    jobs = [("Same samples.", "en-female-1", "en-us"), ("Hola, amigo.", "en-male-1", "es")]

    def run(job: tuple[str, str, str | None]) -> np.ndarray:
        text, voice, language = job
        return kokoro_engine.generate(text, kokoro_engine.builtin_profile(voice), language=language)

    sequential = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=2) as pool:
        concurrent = list(pool.map(run, jobs * 2))
    for i, audio in enumerate(concurrent):
        np.testing.assert_array_equal(audio, sequential[i % len(jobs)])


def test_a_voice_pace_scales_the_requested_speed(kokoro_engine: KokoroEngine) -> None:
    from dataclasses import replace

    alpha = kokoro_engine.builtin_profile("en-female-3")
    assert alpha.meta["pace"] == 0.85
    natural = replace(alpha, meta={**alpha.meta, "pace": 1.0})
    text = "Thank you for calling today."
    slow = kokoro_engine.generate(text, alpha, language="en-us")
    plain = kokoro_engine.generate(text, natural, language="en-us")
    assert 1.08 < slow.size / plain.size < 1.3
    # pace multiplies the request's speed: 0.85 x (1 / 0.85) renders at the natural rate
    np.testing.assert_array_equal(
        kokoro_engine.generate(text, alpha, language="en-us", speed=1 / 0.85), plain
    )
    # a broken pace in stored metadata falls back to the natural rate
    broken = replace(alpha, meta={**alpha.meta, "pace": "fast"})
    np.testing.assert_array_equal(kokoro_engine.generate(text, broken, language="en-us"), plain)
