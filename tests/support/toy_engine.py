"""A small, deterministic engine written for the tests: a sine tone per word.

It is a real :class:`~voxclone.engines.base.Engine` (it passes ``tests/engines/test_contract.py``),
cheap enough for the HTTP and service tests: each word is one 0.1 s chunk whose pitch identifies
the voice, so mixed-up audio between requests is easy to see.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from voxclone.engines.base import (
    Capabilities,
    Engine,
    Limits,
    TimedChunk,
    Utterance,
    VoiceInfo,
    WordTiming,
    text_words,
)
from voxclone.errors import InvalidRequest, NotFound, Unprocessable
from voxclone.voices.profile import VoiceProfile

SR = 24000
WORD_S = 0.1
VOICES = {"fa_low": 220.0, "fa_high": 440.0}


class ToyEngine(Engine):
    """Speaks a sine tone per word (0.1 s each at speed 1) whose pitch identifies the voice.

    Parameters
    ----------
    delay_s : float
        Seconds each chunk takes to "render" (slow engines for scheduling and disconnect tests).
    """

    name = "toy"
    sample_rate = SR
    capabilities = Capabilities(cloning=True, self_check=True, timestamps=True, streaming="phrase")
    limits = Limits(min_speed=0.25, max_speed=4.0)

    def __init__(self, *, delay_s: float = 0.0):
        self.delay_s = delay_s
        self.started = 0  # streams that began working
        self.chunks_made = 0
        self.closed_early = 0
        self.lock = threading.Lock()

    def reset_counts(self) -> None:
        """Forget the work done so far (the server's start-up check speaks a test word)."""
        with self.lock:
            self.started = self.chunks_made = self.closed_early = 0

    def languages(self) -> tuple[str, ...]:
        return ("en-us", "es")

    def language_aliases(self) -> Mapping[str, str]:
        return {"en": "en-us"}

    def builtin_voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo("fa_low", "Low", "en-us", "female", "a low test tone", aliases=("low",)),
            VoiceInfo("fa_high", "High", "en-us", "female", "a high test tone"),
        ]

    def builtin_profile(self, voice_id: str) -> VoiceProfile:
        if voice_id not in VOICES:
            raise NotFound(f"no voice {voice_id}", code="voice_not_found")
        freq = np.array([VOICES[voice_id]], np.float32)
        return VoiceProfile(self.name, self.profile_version, {"freq": freq})

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        level = float(np.abs(np.asarray(audio, np.float32)).mean()) if np.size(audio) else 0.0
        freq = np.array([100.0 + level * 1000.0], np.float32)
        return VoiceProfile(self.name, self.profile_version, {"freq": freq})

    def self_check(
        self, profile: VoiceProfile, reference: np.ndarray, sample_rate: int, *, held_out: Any = None
    ) -> float | None:
        expected = float(self.enroll(reference, sample_rate).tensors["freq"][0])
        got = float(profile.tensors["freq"][0])
        return round(max(0.0, 1.0 - abs(expected - got) / expected), 4)

    def _plan(self, text: str, voice: VoiceProfile, language: str | None) -> float:
        if voice.engine != self.name or "freq" not in voice.tensors:
            raise InvalidRequest("not a toy voice profile", code="incompatible_voice")
        if not any(ch.isalnum() for ch in text):
            raise InvalidRequest("text has nothing speakable", code="empty_text")
        freq = float(voice.tensors["freq"][0])
        if not 20.0 <= freq <= 4000.0:
            raise Unprocessable("toy voice profile is corrupt", code="invalid_profile")
        return freq

    def stream(self, utterance: Utterance) -> Iterator[np.ndarray]:
        for chunk in self._word_chunks(utterance):
            yield chunk.audio

    def stream_timed(self, utterance: Utterance) -> Iterator[TimedChunk]:
        return self._word_chunks(utterance)

    def _word_chunks(self, utterance: Utterance) -> Iterator[TimedChunk]:
        """One chunk per word; the word fills its whole chunk."""
        freq = utterance.plan
        assert isinstance(freq, float)  # made by _plan
        n = int(WORD_S * SR / utterance.speed)
        t = np.arange(n, dtype=np.float32) / SR
        words = text_words(utterance.text)
        done = 0
        with self.lock:
            self.started += 1
        try:
            for word in words:
                if self.delay_s:
                    time.sleep(self.delay_s)
                with self.lock:
                    self.chunks_made += 1
                done += 1
                audio = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
                yield TimedChunk(audio=audio, words=(WordTiming(word, 0.0, round(n / SR, 4)),))
        finally:
            if done < len(words):
                with self.lock:
                    self.closed_early += 1
