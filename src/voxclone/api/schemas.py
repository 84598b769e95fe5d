"""Request and response bodies (``XCreate`` in, ``XPublic`` out)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from voxclone.service.speech import FORMATS

# Limits the service checks itself (400 with its own code: ``empty_text``, ``invalid_speed``…), so
# they are documented in the schema without pydantic enforcing them (which would answer 422).
_NON_EMPTY: dict[str, Any] = {"minLength": 1}
_SPEED_RANGE: dict[str, Any] = {"minimum": 0.25, "maximum": 4.0}
_FORMATS: dict[str, Any] = {"enum": list(FORMATS)}


class TTSCreate(BaseModel):
    """Body of ``/api/v1/tts_non_stream`` and ``/api/v1/tts_stream``."""

    model_config = ConfigDict(extra="ignore")

    text: StrictStr = Field(
        description="Text to speak, 1–5,000 characters, not only spaces.", json_schema_extra=_NON_EMPTY
    )
    voice_id: StrictStr = Field(
        description="A built-in voice id or one of your `vc_…` clone ids.", json_schema_extra=_NON_EMPTY
    )
    model_name: StrictStr | None = Field(default=None, description="Accepted for compatibility (any value).")
    response_format: StrictStr = Field(
        default="wav",
        description="wav (24 kHz mono 16-bit), mp3, flac, opus, aac or pcm.",
        json_schema_extra=_FORMATS,
    )
    speed: float = Field(default=1.0, description="Speaking rate, 0.25–4.0.", json_schema_extra=_SPEED_RANGE)
    language: StrictStr | None = Field(default=None, description="Language code; detected when omitted.")


class SpeechCreate(BaseModel):
    """OpenAI's ``POST /v1/audio/speech`` body."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr = Field(
        description="A model id from GET /v1/models: voxclone, voxclone-<engine>, tts-1, tts-1-hd, "
        "gpt-4o-mini-tts… (others: 404 model_not_found)."
    )
    input: StrictStr = Field(
        description="Text to speak, 1–5,000 characters, not only spaces.", json_schema_extra=_NON_EMPTY
    )
    voice: StrictStr | dict[str, Any] = Field(
        description="Built-in voice id or alias (OpenAI's alloy, nova…), or a `vc_…` clone id (or {id}).",
        json_schema_extra=_NON_EMPTY,
    )
    response_format: StrictStr = Field(
        default="mp3", description="mp3, opus, aac, flac, wav or pcm.", json_schema_extra=_FORMATS
    )
    speed: float = Field(default=1.0, description="0.25–4.0.", json_schema_extra=_SPEED_RANGE)
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
    aliases: list[str] = Field(
        default_factory=list,
        description="Other names a built-in voice answers to (OpenAI's alloy, nova…); empty for clones.",
    )


class VoicesPublic(BaseModel):
    voices: list[VoicePublic]


class QualityWarning(BaseModel):
    code: str = Field(description="Stable snake_case code, e.g. `noisy`, `clipping`, `short_reference`.")
    message: str
    fix: str


class QualityPublic(BaseModel):
    """The reference quality report. It describes the **uploaded recording** as a whole."""

    model_config = ConfigDict(extra="allow")

    score: int | None = Field(default=None, description="0 (unusable) to 100 (clean).")
    duration_s: float | None = Field(
        default=None,
        description="Length of the uploaded recording in seconds, silence included (as decoded; "
        "very long uploads are cut at the intake cap). Compare the clone's top-level `duration_s`, "
        "the audio the voice was made from.",
    )
    speech_duration_s: float | None = Field(
        default=None, description="Seconds of speech the voice-activity detector found in the upload."
    )
    speech_ratio: float | None = Field(default=None, description="speech_duration_s / duration_s, 0–1.")
    peak_dbfs: float | None = Field(default=None, description="Sample peak, dBFS (≤ 0).")
    clipping_ratio: float | None = Field(default=None, description="Share of clipped samples, 0–1.")
    loudness_lufs: float | None = Field(default=None, description="Integrated loudness, LUFS.")
    snr_db: float | None = Field(default=None, description="Estimated signal-to-noise ratio, dB.")
    reverb_rt60_s: float | None = Field(default=None, description="Estimated reverberation time, s.")
    sample_rate: int | None = Field(default=None, description="Sample rate of the upload, Hz.")
    bandwidth_hz: float | None = Field(default=None, description="Estimated audio bandwidth, Hz.")
    longest_pause_s: float | None = Field(default=None, description="Longest pause between speech, s.")
    music_score: float | None = Field(default=None, description="Music/noise likelihood, 0–1.")
    warnings: list[QualityWarning] = Field(default_factory=list)
    notes: list[str] | None = Field(
        default=None, description="What intake changed, e.g. pauses shortened or the window used."
    )


class VoiceClonePublic(BaseModel):
    voice_id: str
    name: str
    created_at: str = Field(examples=["2026-03-28T14:22:10Z"])
    engine: str
    duration_s: float = Field(
        description="Seconds of audio the voice was made from: the uploaded recording after trimming "
        "silence, shortening long pauses and, for recordings with over 30 s of speech, keeping the "
        "best window. Shorter than `quality.duration_s`, the length of the upload itself."
    )
    similarity: float | None = Field(
        description="Self-check: how much a test sentence in the clone sounds like the reference, 0–1. "
        "Computed in the background after the clone is created: `null` while `similarity_status` is "
        "`pending` (poll `GET /api/v1/voice-clones/{voice_id}`), and when it is `failed` or "
        "`unavailable`."
    )
    similarity_status: Literal["pending", "done", "failed", "unavailable"] = Field(
        default="done",
        description="`pending`: the self-check runs in the background, usually within seconds; `done`: "
        "`similarity` holds the score; `failed`: it could not be measured; `unavailable`: this engine "
        "has no calibrated self-check. The clone can be used for speech in every state.",
    )
    quality: QualityPublic = Field(
        description="Reference quality report of the uploaded recording: score, measurements, "
        "warnings [{code, message, fix}]."
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
    held: str = Field(description="Credits reserved by speech in progress; settled to the audio delivered.")
    available: str = Field(description="What new requests can spend: balance minus held.")
    usage: UsagePublic
    limits: dict[str, int]
    pricing: dict[str, str]


T = TypeVar("T")


class WordTimingPublic(BaseModel):
    word: str = Field(description="A word of the text as written (`$42` is one word).")
    start: float = Field(description="When it starts, seconds from the start of the audio.")
    end: float = Field(description="When it ends, seconds from the start of the audio (>= start).")


class TimedSpeechPublic(BaseModel):
    audio: str = Field(description="Base64 of the audio file in `response_format` (WAV by default).")
    sample_rate: int = Field(description="Audio sample rate in Hz (24000).")
    words: list[WordTimingPublic] = Field(
        description="Every word of the text, in order (punctuation trimmed); unspoken ones (emoji) "
        "have zero length."
    )


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
    consent: dict[str, Any] | None = Field(
        default=None,
        description="spoken consent: `available` (the offline recogniser is installed, "
        "`voxclone[consent]`, and has not failed to load), `required` (the server default; accounts may "
        "override it)",
    )


class ConsentChallengeCreate(BaseModel):
    """Body of ``POST /api/v1/consent-challenges`` (all optional)."""

    model_config = ConfigDict(extra="ignore")

    language: StrictStr | None = Field(default=None, max_length=35, description="only `en` for now")
    speaker_name: StrictStr | None = Field(
        default=None, max_length=100, description="said at the start of the phrase (not checked)"
    )


class ConsentChallengePublic(BaseModel):
    challenge_id: str
    phrase: str = Field(description="what the speaker reads aloud, whole")
    language: str
    expires_at: str = Field(description="UTC; the challenge can be used once before then")


class ConsentEvidencePublic(BaseModel):
    voice_id: str
    challenge_id: str
    language: str
    phrase: str
    transcript: str = Field(description="what the offline recogniser heard")
    word_score: float = Field(description="share of the phrase's words heard, 0–1")
    speaker_score: float | None = Field(
        description="d-vector cosine, consent voice vs reference voice; null when the reference "
        "itself held the phrase"
    )
    speaker_threshold: float
    source: str = Field(description="`consent_audio` or `reference` (the reference held the phrase)")
    audio_sha256: str
    has_audio: bool = Field(description="whether the consent recording itself is kept")
    api_key_id: str | None
    created_at: str


class ErrorPublic(BaseModel):
    """An error on the OuteAI routes (``/api/v1/…``); codes are listed in ``docs/errors.md``."""

    code: str = Field(description="Stable snake_case code, e.g. `voice_not_found`.")
    message: str = Field(description="One sentence saying what to change.")
    request_id: str = Field(description="Also in the `x-request-id` header; quote it in reports.")
    param: str | None = Field(default=None, description="The request field at fault, when there is one.")


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(description="OpenAI's error type, e.g. `invalid_request_error`.")
    code: str | None = Field(description="The same stable code as on the OuteAI routes.")
    param: str | None


class OpenAIErrorPublic(BaseModel):
    """An error on the OpenAI-compatible routes (``/v1/…``), in OpenAI's shape."""

    error: OpenAIErrorDetail
