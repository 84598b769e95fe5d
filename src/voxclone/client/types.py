"""Objects the SDK returns. Each keeps the server's full JSON in ``raw`` (``to_dict()``)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import numpy as np

from voxclone.client._constants import SAMPLE_RATE

AudioFormat = Literal["wav", "mp3", "flac", "opus", "aac", "pcm"]
"""Output encodings the server produces; ``pcm`` is raw signed 16-bit little-endian mono."""


class _Record:
    """Mapping-style access to the raw JSON, so code written for dict answers keeps working."""

    raw: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """The server's JSON for this object (a copy)."""
        return dict(self.raw)


@dataclass(frozen=True)
class Voice(_Record):
    """A voice usable for synthesis: built-in, or one of your clones."""

    voice_id: str
    name: str
    type: str
    """``"builtin"`` or ``"clone"``."""
    language: str | None = None
    created_at: str | None = None
    aliases: tuple[str, ...] = ()
    """Other names a built-in voice answers to (OpenAI's ``alloy``, ``nova``…)."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Voice:
        aliases = data.get("aliases")
        return cls(
            voice_id=str(data["voice_id"]),
            name=str(data.get("name", data["voice_id"])),
            type=str(data.get("type", "builtin")),
            language=data.get("language"),
            created_at=data.get("created_at"),
            aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list) else (),
            raw=dict(data),
        )


@dataclass(frozen=True)
class VoiceClone(_Record):
    """A cloned voice held by your account."""

    voice_id: str
    name: str
    created_at: str | None = None
    duration: float | None = None
    """Seconds of audio the clone was made from (the upload after trimming silence; the upload's own
    length is ``raw["quality"]["duration_s"]``)."""
    similarity: float | None = None
    """Self-check score, 0 (a stranger) to 1 (the speaker); ``None`` until it is measured."""
    similarity_status: str | None = None
    """``"pending"`` (measured in the background after creation: see
    ``voice_clones.wait_for_similarity``), ``"done"``, ``"failed"`` or ``"unavailable"`` (the engine
    has no self-check); ``None`` from servers that do not report it."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def similarity_pending(self) -> bool:
        """Whether the server is still measuring :attr:`similarity`."""
        return self.similarity_status == "pending"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VoiceClone:
        duration = data.get("duration_s", data.get("duration"))
        similarity = data.get("similarity")
        status = data.get("similarity_status")
        return cls(
            voice_id=str(data["voice_id"]),
            name=str(data.get("name", "")),
            created_at=data.get("created_at"),
            duration=float(duration) if isinstance(duration, (int, float)) else None,
            similarity=float(similarity) if isinstance(similarity, (int, float)) else None,
            similarity_status=str(status) if isinstance(status, str) else None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class ConsentChallenge(_Record):
    """A phrase for the speaker to read aloud before cloning (valid until ``expires_at``, once)."""

    challenge_id: str
    phrase: str
    expires_at: str | None = None
    language: str = "en"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsentChallenge:
        return cls(
            challenge_id=str(data["challenge_id"]),
            phrase=str(data.get("phrase", "")),
            expires_at=data.get("expires_at"),
            language=str(data.get("language", "en")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class ConsentEvidence(_Record):
    """The spoken-consent evidence kept with a clone (all fields in ``raw``)."""

    voice_id: str
    challenge_id: str
    transcript: str
    word_score: float
    speaker_score: float | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsentEvidence:
        score = data.get("speaker_score")
        return cls(
            voice_id=str(data["voice_id"]),
            challenge_id=str(data.get("challenge_id", "")),
            transcript=str(data.get("transcript", "")),
            word_score=float(data.get("word_score", 0.0)),
            speaker_score=float(score) if isinstance(score, (int, float)) else None,
            raw=dict(data),
        )


@dataclass(frozen=True)
class ClonePage:
    """One page of :meth:`voice_clones.list` (newest first); iterate it for its clones."""

    data: list[VoiceClone]
    has_more: bool = False
    next_cursor: str | None = None
    """Pass as ``after=`` to get the next page; ``None`` on the last page."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __iter__(self) -> Iterator[VoiceClone]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def to_dict(self) -> dict[str, Any]:
        """The server's JSON for this page (a copy)."""
        return dict(self.raw)


@dataclass(frozen=True)
class Account(_Record):
    """Your account: credit balance, usage and limits (full detail in ``raw``)."""

    balance: Decimal | None
    """Credits left, exact."""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Account:
        return cls(balance=_decimal(data.get("balance")), raw=dict(data))


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class SpeechResult:
    """Audio generated by ``speech.create`` / ``generate_speech``.

    Attributes
    ----------
    audio : bytes
        The encoded audio, in ``format``.
    content_type : str
        MIME type the server sent.
    format : str
        ``wav``, ``mp3``, ``flac``, ``opus``, ``aac`` or ``pcm``.
    sample_rate : int
        Hz (24 000 for the server's engines).
    request_id : str or None
        ``x-request-id`` of the answer.
    """

    audio: bytes
    content_type: str = "audio/wav"
    format: str = "wav"
    sample_rate: int = SAMPLE_RATE
    channels: int = 1
    sample_width: int = 2
    request_id: str | None = None

    @property
    def wav_bytes(self) -> bytes:
        """The audio bytes (name used by the ``outeai`` SDK)."""
        return self.audio

    @property
    def duration(self) -> float | None:
        """Seconds of audio, or ``None`` when the format cannot be measured without decoding extras."""
        if self.format == "pcm":
            return len(self.audio) / (self.sample_width * self.channels * self.sample_rate)
        try:
            import soundfile as sf

            info = sf.info(io.BytesIO(self.audio))
        except (ImportError, RuntimeError, ValueError, TypeError):
            return None
        return float(info.frames) / float(info.samplerate)

    def save(self, path: str | Path) -> Path:
        """Write the audio bytes to ``path`` as they are; returns the path."""
        output = Path(path)
        output.write_bytes(self.audio)
        return output

    def to_numpy(self) -> tuple[np.ndarray, int]:
        """Decode to ``(data, samplerate)``: float32 mono in [-1, 1).

        Works for ``pcm`` always, and for the formats libsndfile reads (wav, flac, mp3, opus).
        """
        if self.format == "pcm":
            return pcm16_to_float32(self.audio), self.sample_rate
        import soundfile as sf

        data, samplerate = sf.read(io.BytesIO(self.audio), dtype="float32", always_2d=False)
        return np.asarray(data, dtype=np.float32), int(samplerate)


@dataclass(frozen=True)
class WordTiming:
    """When one word of the text is spoken: seconds from the start of the audio."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class TimedSpeechResult(SpeechResult):
    """Audio from ``speech.create_with_timestamps`` and when each word of the text is spoken.

    ``words`` holds every word of the text as written (``"$42"`` is one word), in order.
    """

    words: tuple[WordTiming, ...] = ()


def pcm16_to_float32(data: bytes) -> np.ndarray:
    """Signed 16-bit little-endian samples → float32 in [-1, 1)."""
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
