"""The values that cross the engine boundary: what an engine declares (:class:`VoiceInfo`,
:class:`Capabilities`, :class:`Limits`), a validated request (:class:`Utterance`) and timed audio
(:class:`WordTiming`, :class:`TimedChunk`), with the two text rules every engine shares
(:func:`text_words`, :func:`canonical_tag`). The interface itself is :mod:`voxclone.engines.base`,
which re-exports all of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from voxclone.voices.profile import VoiceProfile


@dataclass(frozen=True)
class VoiceInfo:
    """A built-in voice as listed to users.

    ``aliases`` are other names the voice answers to (OpenAI's ``alloy``, ``nova``…, see
    :mod:`voxclone.engines.openai_voices`); an alias speaks exactly as the voice.
    """

    voice_id: str
    name: str
    language: str
    gender: str
    description: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, shown by the health route.

    Attributes
    ----------
    cloning : bool
        :meth:`Engine.enroll` turns a reference recording into a voice profile.
    self_check : bool
        :meth:`Engine.self_check` gives a calibrated 0–1 likeness score for a new clone.
    timestamps : bool
        The engine can report when each word is spoken.
    streaming : str
        Granularity of :meth:`Engine.stream`'s chunks: ``"phrase"`` (a phrase or sentence per
        chunk) or ``"frames"`` (audio frames as tokens are decoded).
    """

    cloning: bool = True
    self_check: bool = False
    timestamps: bool = False
    streaming: Literal["phrase", "frames"] = "phrase"


@dataclass(frozen=True)
class Limits:
    """Request limits an engine enforces in :meth:`Engine.prepare`.

    Attributes
    ----------
    min_speed, max_speed : float
        Speaking-rate factor range (1.0 = the voice's natural pace).
    max_text_chars : int | None
        Longest text one request may carry (``None``: no engine limit; the server's own
        ``max_text_chars`` still applies).
    """

    min_speed: float = 0.25
    max_speed: float = 4.0
    max_text_chars: int | None = None


@dataclass(frozen=True)
class Utterance:
    """A request :meth:`Engine.prepare` has validated; :meth:`Engine.stream` speaks it.

    ``plan`` is the engine's own prepared form of the text (opaque to everyone else). ``live``: a
    listener plays the audio as it arrives, so the engine may start with a shorter first chunk
    (earlier first audio, at a small cost in prosody) than it would for a file.
    """

    text: str
    voice: VoiceProfile
    language: str | None
    speed: float
    plan: object = field(default=None, compare=False, repr=False)
    live: bool = False


@dataclass(frozen=True)
class WordTiming:
    """When one word of the request's text is spoken.

    ``word`` is the text as the user wrote it (``"$42"`` is one word spanning "forty two dollars");
    ``start`` and ``end`` are seconds from the start of the chunk that carries it (the service
    shifts them to the start of the whole response).
    """

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class TimedChunk:
    """One chunk of :meth:`Engine.stream_timed`: float32 audio and the words it speaks, in order."""

    audio: np.ndarray
    words: tuple[WordTiming, ...] = ()


_EDGE_PUNCTUATION = ".,!?;:\"'“”‘’«»()[]{}¿¡…—–-*_/\\|·、。，！？：；「」『』（）"


def text_words(text: str) -> list[str]:
    """The words of ``text`` as timestamps report them: whitespace-separated, punctuation trimmed
    from their ends (``"Hello,"`` → ``"Hello"``), tokens of punctuation alone left out; ``"$42"``,
    ``"don't"`` and ``"3.5%"`` stay whole."""
    words = (token.strip(_EDGE_PUNCTUATION) for token in text.split())
    return [w for w in words if w]


def canonical_tag(code: str) -> str:
    """``"fr_FR "`` → ``"fr-fr"``: BCP-47 compared case-insensitively, ``_`` accepted for ``-``."""
    return code.strip().lower().replace("_", "-")
