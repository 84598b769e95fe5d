"""``client.speech``: text to speech, whole (``create``), with word timestamps
(``create_with_timestamps``) or streamed as it is synthesized (``stream``)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import httpx

from voxclone.client._constants import DEFAULT_CHUNK_SIZE
from voxclone.client._exceptions import APIError
from voxclone.client._resource import AsyncAPIResource, SyncAPIResource
from voxclone.client._streaming import AsyncSpeechStream, SpeechStream
from voxclone.client._websocket import AsyncSpeechWebSocket, SpeechWebSocket, open_session
from voxclone.client.types import AudioFormat, SpeechResult, TimedSpeechResult, WordTiming

_CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "pcm": "audio/pcm",
}
NON_STREAM_PATH = "/api/v1/tts_non_stream"
STREAM_PATH = "/api/v1/tts_stream"
TIMESTAMPS_PATH = "/api/v1/tts_with_timestamps"


def speech_request(
    *,
    text: str,
    voice_id: str,
    format: str,
    speed: float | None,
    language: str | None,
    model: str | None,
    timestamps: bool = False,
) -> dict[str, Any]:
    """Keyword arguments of ``_request`` for one generation (JSON body and ``Accept``): the audio
    itself, or with ``timestamps`` the JSON of ``tts_with_timestamps``."""
    body: dict[str, Any] = {"text": text, "voice_id": voice_id, "response_format": format}
    if speed is not None:
        body["speed"] = speed
    if language is not None:
        body["language"] = language
    if model is not None:
        body["model_name"] = model
    accept = "application/json" if timestamps else f"{_CONTENT_TYPES.get(format, '*/*')}, application/json"
    return {"json": body, "headers": {"Accept": accept}}


def to_result(response: httpx.Response, *, format: str) -> SpeechResult:
    return SpeechResult(
        audio=response.content,
        content_type=response.headers.get("content-type", _CONTENT_TYPES.get(format, "")),
        format=format,
        request_id=response.headers.get("x-request-id"),
    )


def to_timed_result(response: httpx.Response, *, format: str) -> TimedSpeechResult:
    """Decode ``tts_with_timestamps``'s JSON (base64 audio and word times)."""
    try:
        data = response.json()["data"]
        audio = base64.b64decode(data["audio"], validate=True)
        words = tuple(WordTiming(str(w["word"]), float(w["start"]), float(w["end"])) for w in data["words"])
        rate = int(data.get("sample_rate", 24000))
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        raise APIError(f"the server's timestamps answer is malformed: {e}", request=response.request) from e
    return TimedSpeechResult(
        audio=audio,
        content_type=_CONTENT_TYPES.get(format, ""),
        format=format,
        sample_rate=rate,
        request_id=response.headers.get("x-request-id"),
        words=words,
    )


class Speech(SyncAPIResource):
    def create(
        self,
        *,
        text: str,
        voice_id: str,
        format: AudioFormat = "wav",
        speed: float | None = None,
        language: str | None = None,
        model: str | None = None,
    ) -> SpeechResult:
        """Synthesize ``text`` and return the whole audio.

        Parameters
        ----------
        text : str
            1 to 5,000 characters.
        voice_id : str
            A built-in voice id or one of your clones (``vc_...``); see ``client.voices.list()``.
        format : {"wav", "mp3", "flac", "opus", "aac", "pcm"}
            Output encoding; WAV and PCM are 24 kHz mono 16-bit.
        speed : float, optional
            Tempo factor, 1.0 is normal (the server accepts 0.25 to 4.0).
        language : str, optional
            Language code such as ``"en-us"``; the server detects it when omitted.
        model : str, optional
            Server model name; the server's default engine when omitted.
        """
        kwargs = speech_request(
            text=text, voice_id=voice_id, format=format, speed=speed, language=language, model=model
        )
        return to_result(self._client._request("POST", NON_STREAM_PATH, **kwargs), format=format)

    def create_with_timestamps(
        self,
        *,
        text: str,
        voice_id: str,
        format: AudioFormat = "wav",
        speed: float | None = None,
        language: str | None = None,
        model: str | None = None,
    ) -> TimedSpeechResult:
        """:meth:`create`, plus when each word is spoken (``result.words``: every word of ``text``
        as written, in order, with ``start``/``end`` in seconds from the start of the audio).

        Raises ``BadRequestError`` (code ``timestamps_unavailable``) when the server's engine
        cannot time words.
        """
        kwargs = speech_request(
            text=text,
            voice_id=voice_id,
            format=format,
            speed=speed,
            language=language,
            model=model,
            timestamps=True,
        )
        return to_timed_result(self._client._request("POST", TIMESTAMPS_PATH, **kwargs), format=format)

    def stream(
        self,
        *,
        text: str,
        voice_id: str,
        format: AudioFormat = "wav",
        speed: float | None = None,
        language: str | None = None,
        model: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> SpeechStream:
        """Synthesize ``text``, receiving audio as it is produced. Use it in a ``with`` block.

        Same parameters as :meth:`create`, plus ``chunk_size`` (bytes per iteration step). The
        request is made when the block is entered; the response is closed when it exits. The
        streamed WAV header leaves its sizes open (``0xFFFFFFFF``); ``save()`` fills them in when
        the stream ends, so the saved file is complete.
        """
        kwargs = speech_request(
            text=text, voice_id=voice_id, format=format, speed=speed, language=language, model=model
        )

        def opener() -> httpx.Response:
            return self._client._request("POST", STREAM_PATH, stream=True, **kwargs)

        return SpeechStream(opener, format=format, chunk_size=chunk_size)

    def websocket(
        self,
        *,
        voice_id: str,
        language: str | None = None,
        speed: float | None = None,
        timestamps: bool = False,
        open_timeout: float = 10.0,
    ) -> SpeechWebSocket:
        """A real-time session: send text as it is written, iterate audio as it is spoken.

        Use it in a ``with`` block; the connection opens (and ``start`` is sent) when the block is
        entered. ``send(text)`` any number of times, ``flush()``, ``end()``; iterate for
        :class:`~voxclone.client._websocket.AudioEvent` (PCM s16le 24 kHz mono ``audio`` and, with
        ``timestamps=True``, ``words`` timed from the session's start). ``done`` holds the seconds
        delivered and the credits charged once the session ends.

        Parameters
        ----------
        voice_id : str
            A built-in voice id or one of your clones.
        language : str, optional
            Language code; detected per segment when omitted.
        speed : float, optional
            Tempo factor 0.25–4.0.
        timestamps : bool
            Ask for word timings (engines with ``capabilities.timestamps``).
        open_timeout : float
            Seconds to wait for the connection.
        """
        return open_session(
            SpeechWebSocket,
            client=self._client,
            voice_id=voice_id,
            language=language,
            speed=speed,
            timestamps=timestamps,
            open_timeout=open_timeout,
        )


class AsyncSpeech(AsyncAPIResource):
    async def create(
        self,
        *,
        text: str,
        voice_id: str,
        format: AudioFormat = "wav",
        speed: float | None = None,
        language: str | None = None,
        model: str | None = None,
    ) -> SpeechResult:
        """Async twin of :meth:`Speech.create`."""
        kwargs = speech_request(
            text=text, voice_id=voice_id, format=format, speed=speed, language=language, model=model
        )
        response = await self._client._request("POST", NON_STREAM_PATH, **kwargs)
        return to_result(response, format=format)

    async def create_with_timestamps(
        self,
        *,
        text: str,
        voice_id: str,
        format: AudioFormat = "wav",
        speed: float | None = None,
        language: str | None = None,
        model: str | None = None,
    ) -> TimedSpeechResult:
        """Async twin of :meth:`Speech.create_with_timestamps`."""
        kwargs = speech_request(
            text=text,
            voice_id=voice_id,
            format=format,
            speed=speed,
            language=language,
            model=model,
            timestamps=True,
        )
        response = await self._client._request("POST", TIMESTAMPS_PATH, **kwargs)
        return to_timed_result(response, format=format)

    def stream(
        self,
        *,
        text: str,
        voice_id: str,
        format: AudioFormat = "wav",
        speed: float | None = None,
        language: str | None = None,
        model: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncSpeechStream:
        """Async twin of :meth:`Speech.stream`; use it in an ``async with`` block."""
        kwargs = speech_request(
            text=text, voice_id=voice_id, format=format, speed=speed, language=language, model=model
        )

        async def opener() -> httpx.Response:
            return await self._client._request("POST", STREAM_PATH, stream=True, **kwargs)

        return AsyncSpeechStream(opener, format=format, chunk_size=chunk_size)

    def websocket(
        self,
        *,
        voice_id: str,
        language: str | None = None,
        speed: float | None = None,
        timestamps: bool = False,
        open_timeout: float = 10.0,
    ) -> AsyncSpeechWebSocket:
        """Async twin of :meth:`Speech.websocket`; use it in an ``async with`` block."""
        return open_session(
            AsyncSpeechWebSocket,
            client=self._client,
            voice_id=voice_id,
            language=language,
            speed=speed,
            timestamps=timestamps,
            open_timeout=open_timeout,
        )
