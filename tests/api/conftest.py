"""HTTP-layer fixtures: a deterministic fake engine (allowed only here) and an app harness."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from voxclone.api import create_app
from voxclone.engines.base import Engine, VoiceInfo
from voxclone.errors import NotFound
from voxclone.service.container import Services
from voxclone.settings import Settings
from voxclone.voices.profile import VoiceProfile

SR = 24000


class FakeEngine(Engine):
    """Speaks a sine tone per word (0.1 s each) whose pitch identifies the voice."""

    name = "fake"
    sample_rate = SR

    def __init__(self, *, delay_s: float = 0.0):
        self.delay_s = delay_s
        self.chunks_made = 0
        self.closed_early = 0
        self.lock = threading.Lock()

    def languages(self) -> tuple[str, ...]:
        return ("en-us", "es")

    def builtin_voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo("fa_low", "Low", "en-us", "female", "a low test tone"),
            VoiceInfo("fa_high", "High", "en-us", "female", "a high test tone"),
        ]

    def builtin_profile(self, voice_id: str) -> VoiceProfile:
        freqs = {"fa_low": 220.0, "fa_high": 440.0}
        if voice_id not in freqs:
            raise NotFound(f"no voice {voice_id}", code="voice_not_found")
        return VoiceProfile("fake", 1, {"freq": np.array([freqs[voice_id]], np.float32)})

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        freq = 100.0 + float(np.abs(audio).mean()) * 1000.0
        return VoiceProfile("fake", 1, {"freq": np.array([freq], np.float32)})

    def synthesize(
        self, text: str, voice: VoiceProfile, *, language: str | None = None, speed: float = 1.0
    ) -> Iterator[np.ndarray]:
        freq = float(voice.tensors["freq"][0])
        n = int(0.1 * SR / speed)
        t = np.arange(n, dtype=np.float32) / SR
        words = text.split()
        done = 0
        try:
            for _ in words:
                if self.delay_s:
                    time.sleep(self.delay_s)
                with self.lock:
                    self.chunks_made += 1
                done += 1
                yield (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        finally:
            if done < len(words):
                with self.lock:
                    self.closed_early += 1


@dataclass
class Harness:
    client: TestClient
    services: Services
    engine: FakeEngine
    keys: list[str] = field(default_factory=list)

    def new_account(self, credits: str = "10") -> dict[str, str]:
        """Headers for a fresh account holding ``credits``."""
        _, key = self.services.accounts.create_key(credits=credits)
        return {"Authorization": f"Bearer {key}"}

    def account_id(self, headers: dict[str, str]) -> str:
        return self.services.accounts.authenticate(headers["Authorization"].split()[1]).id


@pytest.fixture
def make_harness(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Harness]]:
    """Build an app around a fake engine; ``make_harness(delay_s=..., **settings)``."""
    clients: list[TestClient] = []

    def make(*, delay_s: float = 0.0, **overrides: Any) -> Harness:
        engine = FakeEngine(delay_s=delay_s)
        app = create_app(make_settings(**overrides), engine=engine)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        engine.chunks_made = 0  # the start-up capability check spoke a test word
        return Harness(client=client, services=app.state.services, engine=engine)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
