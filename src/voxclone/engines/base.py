"""The interface every speech engine implements.

One streaming primitive, :meth:`Engine.synthesize`, yields float32 mono chunks at
:attr:`Engine.sample_rate`; :meth:`Engine.generate` just collects it. Engines are plain objects
created by :func:`voxclone.engines.create_engine` and passed to the server through app state.

Thread safety: an engine's ``synthesize`` and ``enroll`` may be called from several threads at
once (the server's worker pool). Implementations must keep per-request state local.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voxclone.errors import ServiceError
from voxclone.voices.profile import VoiceProfile


@dataclass(frozen=True)
class VoiceInfo:
    """A built-in voice as listed to users."""

    voice_id: str
    name: str
    language: str
    gender: str
    description: str


class Engine(ABC):
    """A text-to-speech engine that can clone voices from a reference recording."""

    name: str = "engine"
    sample_rate: int = 24000

    @abstractmethod
    def languages(self) -> tuple[str, ...]:
        """Language codes the engine speaks (``"en-us"``, ``"es"``, ``"ja"``...)."""

    @abstractmethod
    def builtin_voices(self) -> list[VoiceInfo]:
        """Voices that ship with the engine."""

    @abstractmethod
    def builtin_profile(self, voice_id: str) -> VoiceProfile:
        """Profile of a built-in voice; raises ``NotFound`` for an unknown id."""

    @abstractmethod
    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        """Turn a prepared reference (float32 mono, trimmed, normalised) into a voice profile.

        Deterministic: the same reference gives the same profile.
        """

    @abstractmethod
    def synthesize(
        self,
        text: str,
        voice: VoiceProfile,
        *,
        language: str | None = None,
        speed: float = 1.0,
    ) -> Iterator[np.ndarray]:
        """Yield float32 mono audio chunks in [-1, 1] at :attr:`sample_rate` as they are made.

        Parameters
        ----------
        text : str
            Text to speak (any length; the engine splits it).
        voice : VoiceProfile
            A built-in or enrolled profile made by this engine.
        language : str, optional
            Language code; detected from the text when omitted.
        speed : float
            Speaking-rate factor, 0.5 (slow) to 2.0 (fast).

        Closing the generator early stops synthesis.
        """

    def generate(
        self, text: str, voice: VoiceProfile, *, language: str | None = None, speed: float = 1.0
    ) -> np.ndarray:
        """Whole-utterance synthesis: the concatenation of :meth:`synthesize`'s chunks."""
        chunks = list(self.synthesize(text, voice, language=language, speed=speed))
        if not chunks:
            return np.zeros(0, np.float32)
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def check(self) -> dict[str, str | None]:
        """Run the native parts behind each capability once (at server start).

        Returns ``{capability: None}`` when it works, else ``{capability: reason}`` (one sentence
        with the fix). Capabilities: ``synthesis`` and ``cloning`` (the engine's own enrollment
        parts; the server checks the shared intake models itself). The base speaks one word with
        the first built-in voice and has no enrollment parts to check.
        """
        return {"synthesis": self._check_synthesis(), "cloning": None}

    def _check_synthesis(self) -> str | None:
        voices = self.builtin_voices()
        if not voices:
            return None
        try:
            audio = self.generate("Ready.", self.builtin_profile(voices[0].voice_id))
        except Exception as e:  # a probe: any failure is the capability's reason, reported at start
            return f"{self.name} could not speak a test word: {describe_error(e)}"
        if audio.size == 0 or not np.all(np.isfinite(audio)):
            return f"{self.name} produced no audio for a test word"
        return None

    def info(self) -> dict[str, object]:
        """Facts shown by the health route."""
        return {"name": self.name, "sample_rate": self.sample_rate, "languages": list(self.languages())}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release model resources."""


def describe_error(error: BaseException) -> str:
    """One line for a failed check: a service error's message, else ``Type: message``."""
    if isinstance(error, ServiceError):
        return error.message
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
