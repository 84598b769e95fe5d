"""``client.speech.websocket(...)``: real-time speech, text in and audio out over one WebSocket.

::

    with client.speech.websocket(voice_id="af_heart", timestamps=True) as ws:
        for token in llm_tokens():
            ws.send(token)
        ws.end()
        for event in ws:          # AudioEvent: PCM s16le 24 kHz mono bytes + words
            play(event.audio)
    print(ws.done.audio_seconds, ws.done.credits_charged)

Sending and receiving may happen on different threads (or tasks, for the async twin): a player
thread can iterate while the main thread sends text. Non-fatal server errors (a refused piece of
text, an unspeakable segment) are collected in :attr:`errors`; an error that ends the session
(``insufficient_credits``, ``idle_timeout``, a bad key…), or a refused ``start`` (an unknown
voice…), raises :class:`RealtimeError` from the iteration.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from voxclone.client._constants import SAMPLE_RATE
from voxclone.client._exceptions import APIConnectionError, APIError
from voxclone.client.types import WordTiming, pcm16_to_float32

if TYPE_CHECKING:
    from voxclone.client._base_client import _ClientConfig

WEBSOCKET_PATH = "/api/v1/tts_websocket"
# errors that answer a refused ``start``: the session cannot speak, so the SDK raises them
_START_ERRORS = frozenset(
    {
        "invalid_voice",
        "voice_not_found",
        "invalid_speed",
        "unsupported_language",
        "incompatible_voice",
        "voice_outdated",
        "voice_engine_mismatch",
        "timestamps_unavailable",
        "invalid_message",
    }
)


class RealtimeError(APIError):
    """The server ended a real-time session with an error.

    Attributes
    ----------
    code : str or None
        The server's error code (``insufficient_credits``, ``idle_timeout``, ``invalid_api_key``…).
    close_code : int or None
        The WebSocket close code (1008 policy, 1011 internal, 1013 try again later).
    """

    def __init__(self, message: str, *, code: str | None, close_code: int | None) -> None:
        super().__init__(message)
        self.code = code
        self.close_code = close_code

    def __str__(self) -> str:
        return f"{self.message} (code={self.code}, close_code={self.close_code})"


@dataclass(frozen=True)
class AudioEvent:
    """One chunk of audio: raw PCM signed 16-bit little-endian mono at ``sample_rate`` Hz."""

    audio: bytes
    words: tuple[WordTiming, ...] = ()
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        """Seconds of audio in this chunk."""
        return len(self.audio) / 2 / self.sample_rate

    def to_numpy(self) -> np.ndarray:
        """float32 samples in [-1, 1)."""
        return pcm16_to_float32(self.audio)


@dataclass(frozen=True)
class SessionDone:
    """The server's ``done``: audio delivered (seconds) and credits charged (exact)."""

    audio_seconds: float
    credits_charged: Decimal
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def websocket_url(base_url: str) -> str:
    """``http://host:port/`` → ``ws://host:port/api/v1/tts_websocket`` (``https`` → ``wss``)."""
    url = base_url.rstrip("/")
    if url.startswith("https://"):
        url = "wss://" + url[len("https://") :]
    elif url.startswith("http://"):
        url = "ws://" + url[len("http://") :]
    return url + WEBSOCKET_PATH


def start_message(
    *, voice_id: str, language: str | None, speed: float | None, timestamps: bool
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "start", "voice_id": voice_id, "timestamps": timestamps}
    if language is not None:
        message["language"] = language
    if speed is not None:
        message["speed"] = speed
    return message


class _Reader:
    """Turns server messages into events; shared by the sync and async sessions."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.done: SessionDone | None = None
        self.spoke = False  # audio arrived: the start was accepted

    def event(self, raw: str | bytes) -> AudioEvent | None:
        message = json.loads(raw)
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "audio":
            timed = message.get("words", ())
            words = tuple(WordTiming(str(w["word"]), float(w["start"]), float(w["end"])) for w in timed)
            self.spoke = True
            return AudioEvent(audio=base64.b64decode(message["audio"]), words=words)
        if kind == "error":
            self.errors.append(message)
            if not self.spoke and message.get("code") in _START_ERRORS:
                raise RealtimeError(str(message.get("message")), code=message.get("code"), close_code=None)
        elif kind == "done":
            self.done = SessionDone(
                audio_seconds=float(message.get("audio_seconds", 0.0)),
                credits_charged=Decimal(str(message.get("credits_charged", "0"))),
                raw=message,
            )
        return None

    def closed(self, code: int | None, reason: str | None) -> None:
        """Raise :class:`RealtimeError` unless the server closed normally."""
        if code == 1000 and (self.done is not None or not self.errors):
            return
        last = self.errors[-1] if self.errors else {}
        raise RealtimeError(
            str(last.get("message") or f"the session was closed ({code} {reason or ''})".strip()),
            code=last.get("code") or reason or None,
            close_code=code,
        )


def _headers(api_key: str, extra: dict[str, str]) -> dict[str, str]:
    from voxclone import __version__

    return {"Authorization": f"Bearer {api_key}", "User-Agent": f"voxclone-python/{__version__}", **extra}


class _Session:
    """What both sessions share: their settings, the reader and the messages they send."""

    def __init__(
        self, *, url: str, headers: dict[str, str], start: dict[str, Any], open_timeout: float
    ) -> None:
        self._url = url
        self._headers = headers
        self._start = start
        self._open_timeout = open_timeout
        self._reader = _Reader()
        self._ws: Any = None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Non-fatal ``error`` messages received so far (``{"code", "message"}``)."""
        return self._reader.errors

    @property
    def done(self) -> SessionDone | None:
        """The ``done`` message once the session has finished."""
        return self._reader.done

    def _connect_options(self) -> dict[str, Any]:
        """Keyword arguments of ``websockets``' ``connect`` (sync or asyncio) besides the URL."""
        return {"additional_headers": self._headers, "open_timeout": self._open_timeout}

    def _closed(self) -> None:
        """The connection closed: raise :class:`RealtimeError` unless the server closed normally."""
        self._reader.closed(self._ws.close_code, self._ws.close_reason)

    def _send_failed(self) -> APIConnectionError:
        """A send found the connection closed: the server's reason, else a connection error."""
        self._closed()
        return APIConnectionError("the session is closed")


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


_FLUSH: dict[str, Any] = {"type": "flush"}
_END: dict[str, Any] = {"type": "end"}


class SpeechWebSocket(_Session):
    """A blocking real-time session; use it in a ``with`` block (see the module docstring)."""

    def __init__(
        self, *, url: str, headers: dict[str, str], start: dict[str, Any], open_timeout: float
    ) -> None:
        super().__init__(url=url, headers=headers, start=start, open_timeout=open_timeout)
        self._stack = ExitStack()

    def __enter__(self) -> SpeechWebSocket:
        from websockets.sync.client import connect

        opening = connect(self._url, **self._connect_options())
        try:
            self._ws = self._stack.enter_context(opening)
        except (OSError, TimeoutError) as e:
            raise APIConnectionError(f"Connection error: {e}") from e
        self._send(self._start)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def send(self, text: str) -> None:
        """Add a piece of text (any size, a single token too); the server decides when to speak."""
        self._send(_text(text))

    def flush(self) -> None:
        """Speak what was sent so far now, even mid-sentence."""
        self._send(_FLUSH)

    def end(self) -> None:
        """No more text: the server speaks the rest, sends ``done`` and closes."""
        self._send(_END)

    def __iter__(self) -> Iterator[AudioEvent]:
        """Audio events until the session ends; raises :class:`RealtimeError` if it ended badly."""
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                raw = self._ws.recv()
            except ConnectionClosed:
                self._closed()
                return
            event = self._reader.event(raw)
            if event is not None:
                yield event

    def close(self) -> None:
        """Close the connection (the server charges only the audio it sent)."""
        self._stack.close()

    def _send(self, message: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            self._ws.send(json.dumps(message))
        except ConnectionClosed as e:
            raise self._send_failed() from e


class AsyncSpeechWebSocket(_Session):
    """Async twin of :class:`SpeechWebSocket`; use it in an ``async with`` block."""

    def __init__(
        self, *, url: str, headers: dict[str, str], start: dict[str, Any], open_timeout: float
    ) -> None:
        super().__init__(url=url, headers=headers, start=start, open_timeout=open_timeout)
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> AsyncSpeechWebSocket:
        from websockets.asyncio.client import connect

        opening = connect(self._url, **self._connect_options())
        try:
            self._ws = await self._stack.enter_async_context(opening)
        except (OSError, TimeoutError) as e:
            raise APIConnectionError(f"Connection error: {e}") from e
        await self._send(self._start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def send(self, text: str) -> None:
        """Add a piece of text (any size)."""
        await self._send(_text(text))

    async def flush(self) -> None:
        """Speak what was sent so far now."""
        await self._send(_FLUSH)

    async def end(self) -> None:
        """No more text: the server speaks the rest, sends ``done`` and closes."""
        await self._send(_END)

    async def __aiter__(self) -> AsyncIterator[AudioEvent]:
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                raw = await self._ws.recv()
            except ConnectionClosed:
                self._closed()
                return
            event = self._reader.event(raw)
            if event is not None:
                yield event

    async def close(self) -> None:
        """Close the connection."""
        await self._stack.aclose()

    async def _send(self, message: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self._ws.send(json.dumps(message))
        except ConnectionClosed as e:
            raise self._send_failed() from e


_SessionT = TypeVar("_SessionT", SpeechWebSocket, AsyncSpeechWebSocket)


def open_session(
    cls: type[_SessionT],
    *,
    client: _ClientConfig,
    voice_id: str,
    language: str | None,
    speed: float | None,
    timestamps: bool,
    open_timeout: float,
) -> _SessionT:
    """Build a (not yet connected) session of ``cls`` with ``client``'s URL, key and headers."""
    return cls(
        url=websocket_url(str(client.base_url)),
        headers=_headers(client.api_key, client.default_headers),
        start=start_message(voice_id=voice_id, language=language, speed=speed, timestamps=timestamps),
        open_timeout=open_timeout,
    )
