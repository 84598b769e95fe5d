"""The engine boundary: every rule about what an engine can say lives behind this interface.

The service never imports a concrete engine and never branches on an engine's name; it asks:

- **languages**: :meth:`Engine.languages`, :meth:`Engine.resolve_language` (BCP-47 tags,
  case-insensitive, ``_`` or ``-``, the engine's aliases, then the primary subtag: ``fr-FR`` → ``fr``);
- **voices**: :meth:`Engine.builtin_voices`, :meth:`Engine.resolve_voice` (ids and aliases),
  :meth:`Engine.builtin_profile`;
- **limits**: :attr:`Engine.limits` (speed range, text length);
- **capabilities**: :attr:`Engine.capabilities` (cloning, timestamps, streaming granularity);
- **synthesis**: :meth:`Engine.prepare` validates a request completely (so errors are raised before
  any response header is sent), and :meth:`Engine.stream` is the one streaming primitive: it yields
  float32 mono chunks at :attr:`Engine.sample_rate`. :meth:`Engine.generate` just collects it;
- **cloning**: :meth:`Engine.enroll` and :meth:`Engine.self_check`; :attr:`Engine.profile_version`
  says what the engine's profiles mean, and older ones are outdated (:meth:`Engine.profile_outdated`:
  refused with ``voice_outdated``, re-enrolled by the service from their kept reference audio).

The values it trades in (:class:`VoiceInfo`, :class:`Capabilities`, :class:`Limits`,
:class:`Utterance`, :class:`TimedChunk`…) are defined in :mod:`voxclone.engines.types` and
re-exported here.

Engines are plain objects created by :func:`voxclone.engines.registry.create_engine` and passed to
the server through app state. Adding an engine is one folder under ``voxclone/engines``, one line
in the registry, and passing ``tests/engines/test_contract.py``.

Thread safety: ``prepare``, ``stream`` and ``enroll`` may be called from several threads at once
(the server's worker pool). Implementations keep per-request state local.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np

from voxclone.engines.types import (
    Capabilities,
    Limits,
    TimedChunk,
    Utterance,
    VoiceInfo,
    WordTiming,
    canonical_tag,
    text_words,
)
from voxclone.errors import InvalidRequest, NotFound, ProfileOutdated, ServiceError
from voxclone.voices.profile import VoiceProfile

if TYPE_CHECKING:
    from voxclone.audio.speaker import SpeakerEncoder

__all__ = [
    "Capabilities",
    "Engine",
    "Limits",
    "TimedChunk",
    "Utterance",
    "VoiceInfo",
    "WordTiming",
    "canonical_tag",
    "describe_error",
    "text_words",
    "unknown_voice",
]


class Engine(ABC):
    """A text-to-speech engine that may clone voices from a reference recording."""

    name: str = "engine"
    sample_rate: int = 24000
    profile_version: int = 1  # bump whenever what the engine's profiles mean changes
    capabilities: Capabilities = Capabilities()
    limits: Limits = Limits()

    # -- languages ---------------------------------------------------------------------------

    @abstractmethod
    def languages(self) -> tuple[str, ...]:
        """Canonical codes of the languages the engine speaks (``"en-us"``, ``"es"``, ``"ja"``...)."""

    def language_aliases(self) -> Mapping[str, str]:
        """Extra lowercase tags → canonical codes (``"en"`` → ``"en-us"``); none by default."""
        return {}

    def resolve_language(self, code: str | None) -> str | None:
        """The canonical code for a BCP-47 tag, or ``None`` (detect from the text) when not given.

        Tried in order: the tag itself, the engine's aliases, then ever shorter prefixes
        (``es-MX`` → ``es``, ``zh-Hant-TW`` → ``zh-hant`` → ``zh``), each also through the aliases.

        Raises
        ------
        InvalidRequest
            ``unsupported_language`` naming the languages the engine speaks.
        """
        if code is None or not str(code).strip():
            return None
        known = self.languages()
        aliases = self.language_aliases()
        tag = canonical_tag(str(code))
        parts = tag.split("-")
        for n in range(len(parts), 0, -1):
            candidate = "-".join(parts[:n])
            candidate = aliases.get(candidate, candidate)
            if candidate in known:
                return candidate
        raise InvalidRequest(
            f"language {code!r} is not supported by the {self.name} engine; use one of {', '.join(known)}",
            code="unsupported_language",
            details={"supported": list(known)},
        )

    # -- voices ------------------------------------------------------------------------------

    @abstractmethod
    def builtin_voices(self) -> list[VoiceInfo]:
        """Voices that ship with the engine."""

    def resolve_voice(self, name: str) -> str | None:
        """The built-in voice id ``name`` selects (its id or one of its aliases, case-insensitive)."""
        key = name.strip().lower()
        for voice in self.builtin_voices():
            if key == voice.voice_id.lower() or key in voice.aliases:
                return voice.voice_id
        return None

    @abstractmethod
    def builtin_profile(self, voice_id: str) -> VoiceProfile:
        """Profile of a built-in voice; raises ``NotFound`` (``voice_not_found``) for an unknown id."""

    # -- synthesis ---------------------------------------------------------------------------

    def prepare(
        self,
        text: str,
        voice: VoiceProfile,
        *,
        language: str | None = None,
        speed: float = 1.0,
        live: bool = False,
    ) -> Utterance:
        """Validate a request completely; cheap (no synthesis), so call it before answering.

        Parameters
        ----------
        text : str
            Text to speak (any length up to :attr:`limits`; the engine splits it).
        voice : VoiceProfile
            A built-in or enrolled profile made by this engine.
        language : str, optional
            A BCP-47 tag; detected from the text when omitted.
        speed : float
            Speaking-rate factor within ``limits.min_speed``–``limits.max_speed``.
        live : bool
            The audio is played as it arrives (a stream, a real-time session): the first audio
            matters more than the prosody of the first sentence.

        Raises
        ------
        InvalidRequest
            ``empty_text``, ``text_too_long``, ``unsupported_language``, ``invalid_speed`` or
            ``incompatible_voice``.
        ProfileOutdated
            ``voice_outdated``: ``voice`` is of an older :attr:`profile_version`.
        """
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequest("text is empty; send at least one word to speak", code="empty_text")
        cap = self.limits.max_text_chars
        if cap is not None and len(text) > cap:
            raise InvalidRequest(
                f"text is {len(text)} characters; the {self.name} engine takes at most {cap}. "
                "Split it into several requests.",
                code="text_too_long",
            )
        self.check_speed(speed)
        lang = self.resolve_language(language)
        if self.profile_outdated(voice):
            raise ProfileOutdated(
                f"this voice was made by an older version of the {self.name} engine's cloning method "
                f"(profile version {voice.version}, now {self.profile_version}); re-create it from its "
                "recording",
                engine=self.name,
                found=voice.version,
                current=self.profile_version,
            )
        return Utterance(
            text=text,
            voice=voice,
            language=lang,
            speed=float(speed),
            plan=self._plan(text, voice, lang),
            live=live,
        )

    def check_speed(self, speed: float) -> None:
        """Refuse a speed outside :attr:`limits` (or not a finite number) with ``invalid_speed``."""
        low, high = self.limits.min_speed, self.limits.max_speed
        if not isinstance(speed, int | float) or not math.isfinite(speed) or not low <= speed <= high:
            raise InvalidRequest(f"speed must be between {low} and {high}", code="invalid_speed")

    @abstractmethod
    def _plan(self, text: str, voice: VoiceProfile, language: str | None) -> object:
        """Engine-specific validation and preparation of ``text`` for ``voice`` (no synthesis).

        Raises ``InvalidRequest`` for anything the engine cannot speak (``empty_text`` when nothing
        speakable remains, ``incompatible_voice``).
        """

    @abstractmethod
    def stream(self, utterance: Utterance) -> Iterator[np.ndarray]:
        """Yield float32 mono audio chunks in [-1, 1] at :attr:`sample_rate` as they are made.

        Closing the generator early stops synthesis. The concatenated chunks are the same audio,
        sample for sample, whatever the consumer does between them.
        """

    def stream_timed(self, utterance: Utterance) -> Iterator[TimedChunk]:
        """:meth:`stream` with the words each chunk speaks (``capabilities.timestamps`` engines).

        The audio is the same, sample for sample, as :meth:`stream`'s.

        Raises
        ------
        InvalidRequest
            ``timestamps_unavailable`` when the engine cannot tell when words are spoken.
        """
        raise InvalidRequest(
            f"the {self.name} engine cannot report word timestamps", code="timestamps_unavailable"
        )

    def synthesize(
        self, text: str, voice: VoiceProfile, *, language: str | None = None, speed: float = 1.0
    ) -> Iterator[np.ndarray]:
        """:meth:`prepare` then :meth:`stream` (validation happens before this returns)."""
        return self.stream(self.prepare(text, voice, language=language, speed=speed))

    def generate(
        self, text: str, voice: VoiceProfile, *, language: str | None = None, speed: float = 1.0
    ) -> np.ndarray:
        """Whole-utterance synthesis: the concatenation of :meth:`stream`'s chunks."""
        chunks = list(self.synthesize(text, voice, language=language, speed=speed))
        if not chunks:
            return np.zeros(0, np.float32)
        return np.concatenate(chunks).astype(np.float32, copy=False)

    # -- cloning -----------------------------------------------------------------------------

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        """Turn a prepared reference (float32 mono, trimmed, normalised) into a voice profile.

        Deterministic: the same reference gives the same profile. Engines without cloning
        (``capabilities.cloning`` false) refuse with ``cloning_unavailable``.
        """
        raise InvalidRequest(f"the {self.name} engine cannot clone voices", code="cloning_unavailable")

    def profile_outdated(self, profile: VoiceProfile) -> bool:
        """Whether ``profile`` is this engine's but of an older :attr:`profile_version`, which the
        engine no longer reads: the service re-enrolls such clones from their kept reference audio."""
        return profile.engine == self.name and profile.version < self.profile_version

    def self_check(
        self,
        profile: VoiceProfile,
        reference: np.ndarray,
        sample_rate: int,
        *,
        held_out: np.ndarray | None = None,
    ) -> float | None:
        """How much a new clone sounds like its reference: 0 (a stranger) to 1 (the speaker).

        ``reference`` is the prepared audio the clone was enrolled from; ``held_out``, when given, is
        more speech of the same upload that enrollment did not use (a long upload's remainder), at
        the same rate: an engine should score against it rather than against ``reference``.

        ``None`` when the engine has no calibrated measure (``capabilities.self_check`` false).
        """
        return None

    @property
    def speaker_encoder(self) -> SpeakerEncoder | None:
        """A d-vector speaker encoder the engine already holds, for the reference intake to share
        (so a process loads one); ``None`` when it holds none and the intake loads its own."""
        return None

    # -- start-up check ---------------------------------------------------------------------

    def check(self) -> dict[str, str | None]:
        """Run the native parts behind each capability once (at server start).

        Returns ``{capability: None}`` when it works, else ``{capability: reason}`` (one sentence
        with the fix). Capabilities: ``synthesis`` and ``cloning`` (the engine's own enrollment
        parts; the server checks the shared intake models itself). The base speaks one word with
        the first built-in voice and has no enrollment parts to check.
        """
        return {"synthesis": self._check_synthesis(), "cloning": None}

    def speak_test_word(self) -> np.ndarray:
        """The start-up check's render: "Ready." with the first built-in voice (the engine has one).

        An engine that already spoke it (a warm-up) may return that audio instead of speaking again.
        """
        return self.generate("Ready.", self.builtin_profile(self.builtin_voices()[0].voice_id))

    def _check_synthesis(self) -> str | None:
        if not self.builtin_voices():
            return None
        try:
            audio = self.speak_test_word()
        except Exception as e:  # a probe: any failure is the capability's reason, reported at start
            return f"{self.name} could not speak a test word: {describe_error(e)}"
        if audio.size == 0 or not np.all(np.isfinite(audio)):
            return f"{self.name} produced no audio for a test word"
        return None

    # -- facts -------------------------------------------------------------------------------

    def info(self) -> dict[str, object]:
        """Facts shown by the health route."""
        caps = self.capabilities
        return {
            "name": self.name,
            "sample_rate": self.sample_rate,
            "languages": list(self.languages()),
            "capabilities": {
                "cloning": caps.cloning,
                "self_check": caps.self_check,
                "timestamps": caps.timestamps,
                "streaming": caps.streaming,
            },
            "limits": {
                "min_speed": self.limits.min_speed,
                "max_speed": self.limits.max_speed,
                "max_text_chars": self.limits.max_text_chars,
            },
        }

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release model resources."""


def unknown_voice(voice_id: str) -> NotFound:
    """The error for a voice id no engine voice or clone has."""
    return NotFound(
        f"voice {voice_id!r} not found; GET /api/v1/voices lists the voices you can use",
        code="voice_not_found",
    )


def describe_error(error: BaseException) -> str:
    """One line for a failed check: a service error's message, else ``Type: message``."""
    if isinstance(error, ServiceError):
        return error.message
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
