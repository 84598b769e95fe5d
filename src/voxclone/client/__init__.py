"""voxclone's Python SDK: :class:`Client` / :class:`AsyncClient` over httpx.

::

    from voxclone import Client

    client = Client()  # VOXCLONE_API_KEY, VOXCLONE_BASE_URL (default http://127.0.0.1:8000)
    clone = client.voice_clones.create(audio="me.wav", name="me")
    client.speech.create(text="Hello!", voice_id=clone.voice_id, format="mp3").save("hello.mp3")
    with client.speech.stream(text="A long story...", voice_id=clone.voice_id) as stream:
        stream.save("story.wav")

Code written for the ``outeai`` SDK ports by changing its import to ``from voxclone import OuteAI``.
"""

from __future__ import annotations

from voxclone.client._client import AsyncClient, Client
from voxclone.client._constants import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from voxclone.client._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientCreditsError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    UnsupportedMediaTypeError,
    VoxcloneError,
)
from voxclone.client._streaming import AsyncSpeechStream, SpeechStream
from voxclone.client._websocket import (
    AsyncSpeechWebSocket,
    AudioEvent,
    RealtimeError,
    SessionDone,
    SpeechWebSocket,
)
from voxclone.client.types import (
    Account,
    ClonePage,
    ConsentChallenge,
    ConsentEvidence,
    SpeechResult,
    TimedSpeechResult,
    Voice,
    VoiceClone,
    WordTiming,
)

OuteAI = Client
"""Alias for porting ``outeai`` code: ``OuteAI(api_key, base_url=...)``."""
AsyncOuteAI = AsyncClient
OuteAIError = VoxcloneError
OuteAIAPIError = APIStatusError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "Account",
    "AsyncClient",
    "AsyncOuteAI",
    "AsyncSpeechStream",
    "AsyncSpeechWebSocket",
    "AudioEvent",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClonePage",
    "ConflictError",
    "ConsentChallenge",
    "ConsentEvidence",
    "InsufficientCreditsError",
    "InternalServerError",
    "NotFoundError",
    "OuteAI",
    "OuteAIAPIError",
    "OuteAIError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "RealtimeError",
    "SessionDone",
    "SpeechResult",
    "SpeechStream",
    "SpeechWebSocket",
    "TimedSpeechResult",
    "UnprocessableEntityError",
    "UnsupportedMediaTypeError",
    "Voice",
    "VoiceClone",
    "VoxcloneError",
    "WordTiming",
]
