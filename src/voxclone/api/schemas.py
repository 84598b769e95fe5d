"""Request and response bodies (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class TTSCreate(BaseModel):
    """Body of ``/api/v1/tts_non_stream`` and ``/api/v1/tts_stream``."""

    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(description="Text to speak, 1–5,000 characters.")
    voice_id: StrictStr = Field(description="A built-in voice id or one of your `vc_…` clone ids.")
    model_name: StrictStr | None = Field(default=None, description="Accepted for compatibility (any value).")
    response_format: StrictStr = Field(
        default="wav", description="wav (24 kHz mono 16-bit), mp3, flac, opus, pcm."
    )
    speed: float = Field(default=1.0, description="Speaking rate, 0.25–4.0.")
    language: StrictStr | None = Field(default=None, description="Language code; detected when omitted.")


class SpeechCreate(BaseModel):
    """OpenAI's ``POST /v1/audio/speech`` body."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr = Field(description="Any model id from GET /v1/models (e.g. tts-1).")
    input: StrictStr = Field(description="Text to speak, 1–5,000 characters.")
    voice: StrictStr | dict[str, Any] = Field(description="Built-in voice id or `vc_…` clone id (or {id}).")
    response_format: StrictStr = Field(default="mp3", description="mp3, opus, aac, flac, wav or pcm.")
    speed: float = Field(default=1.0, description="0.25–4.0.")
    instructions: StrictStr | None = Field(default=None, description="Accepted and ignored.")
    stream_format: Literal["audio", "sse"] | None = Field(default=None, description="audio (default) or sse.")


class VoicePublic(BaseModel):
    voice_id: str
    name: str
    type: Literal["builtin", "clone"]
    language: str | None = None
    gender: str | None = None
    description: str | None = None
    created_at: str | None = None


class VoicesPublic(BaseModel):
    voices: list[VoicePublic]


class VoiceClonePublic(BaseModel):
    voice_id: str
    name: str
    created_at: str = Field(examples=["2026-03-28T14:22:10Z"])
    engine: str
    duration_s: float = Field(description="Seconds of usable speech in the reference.")
    similarity: float | None = Field(
        description="Self-check: how much a test sentence in the clone sounds like the reference, 0–1."
    )
    quality: dict[str, Any] = Field(
        description="Reference quality report: score, warnings [{code,message,fix}]."
    )
    has_reference_audio: bool


class VoiceCloneDeleted(BaseModel):
    voice_id: str
    deleted: bool


class VoiceClonesPublic(BaseModel):
    voice_clones: list[VoiceClonePublic]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `after` to get the next page.")


class UsagePublic(BaseModel):
    seconds_generated: float
    clones_held: int


class AccountPublic(BaseModel):
    account_id: str
    name: str
    created_at: str
    balance: str = Field(description="Exact decimal credits as a string, e.g. '9.975000'.")
    usage: UsagePublic
    limits: dict[str, int]
    pricing: dict[str, str]


T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    data: T


class CapabilityPublic(BaseModel):
    status: Literal["available", "unavailable"]
    required: bool = Field(description="the server does not start without it")
    reason: str | None = Field(default=None, description="why it is unavailable and how to fix it")


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: an optional capability is unavailable")
    version: str
    engine: dict[str, Any]
    capabilities: dict[str, CapabilityPublic] = Field(
        description="synthesis and cloning, each checked at start by running its native parts"
    )


class ErrorPublic(BaseModel):
    code: str
    message: str
    request_id: str
