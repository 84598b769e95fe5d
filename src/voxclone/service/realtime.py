"""One real-time speech session: text streams in, audio streams out (``GET /api/v1/tts_websocket``).

The session is a small state machine over a :class:`Channel` (the WebSocket, or anything that
carries JSON messages both ways). Client messages, in order: ``start`` (voice, language, speed,
timestamps), ``text`` any number of times, ``flush``, ``end``. Server messages: ``audio`` (base64
PCM s16le mono at the engine's rate, with ``words`` when timestamps were asked for), ``done``,
``error``. The protocol is documented in the README and the codes in ``docs/errors.md``.

Two tasks run per session and nothing else:

* the **receiver** reads messages, feeds the :class:`~voxclone.service.segmenter.TextSegmenter`
  and answers protocol errors (the session goes on);
* the **speaker** takes ready segments one at a time, validates each with ``Engine.prepare`` and
  synthesizes it through the server's worker pool (``SynthesisPool.iterate``, so sessions take
  turns with every other stream chunk by chunk), sending each chunk as it comes. It holds a
  worker only while a segment is being synthesized: an idle session holds none. It also closes
  the session when neither text nor audio happened for ``idle_timeout_s`` seconds.

Billing: one credit hold per session (:mod:`voxclone.service.holds`), taken at ``start`` and
grown chunk by chunk; each chunk is paid for before it is sent and counted as delivered once
sent. At the end (``done``, error, disconnect) exactly the delivered audio is charged. When the
account cannot pay for the next chunk, the session sends ``insufficient_credits`` and closes.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Iterator
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import Any

import anyio
import numpy as np

from voxclone.audio.encode import to_int16
from voxclone.engines.base import Engine, TimedChunk, Utterance
from voxclone.errors import (
    InsufficientCredits,
    InvalidRequest,
    Overloaded,
    ServiceError,
)
from voxclone.service.accounts import AccountRef
from voxclone.service.container import Services
from voxclone.service.holds import Hold
from voxclone.service.money import format_credits, samples_to_ms
from voxclone.service.pool import Slot
from voxclone.service.realtime_protocol import (
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TRY_LATER,
    Channel,
    ClientGone,
    SessionClosed,
    error_message,
    parse_message,
)
from voxclone.service.scheduling import Kind
from voxclone.service.segmenter import TextSegmenter
from voxclone.service.watermarking import ClipMarker
from voxclone.voices.profile import VoiceProfile

log = logging.getLogger(__name__)

HOLD_MIN_MS = 1000  # a session needs credits for at least this much audio to start
HOLD_WANT_MS = 10_000  # held at start when available; the hold grows as audio is delivered


@dataclass(frozen=True)
class Voice:
    """What a ``start`` message asked for, validated."""

    voice_id: str
    profile: VoiceProfile
    language: str | None
    speed: float
    timestamps: bool


class RealtimeSession:
    """One session of one authenticated account over ``channel``.

    Parameters
    ----------
    services : Services
        The server's services (engine, pool, holds, speech).
    account : AccountRef
        The authenticated caller.
    channel : Channel
        Where messages come from and go to.
    idle_timeout_s : float
        Seconds without a client message and without audio in progress before the session is
        closed with ``idle_timeout`` (> 0).
    """

    def __init__(self, *, services: Services, account: AccountRef, channel: Channel, idle_timeout_s: float):
        self._services = services
        self._engine: Engine = services.engine
        self._account = account
        # one watermark across the session's audio, chunk after chunk (see service.watermarking)
        self._clip = services.speech.clip_marker(account)
        self._channel = channel
        self._idle_s = idle_timeout_s
        self._segmenter = TextSegmenter(max_chars=services.settings.max_text_chars)
        self._max_buffer = services.settings.max_text_chars
        self._voice: Voice | None = None
        self._hold: Hold | None = None
        self._place: Slot | None = None  # the session's place among the pool's live streams
        self._ended = False
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._last_activity = time.monotonic()
        self.delivered_samples = 0
        self.close_reason = ""  # the error code the session ended with ("" after done)

    # ------------------------------------------------------------------------------- running

    async def run(self, first: dict[str, Any] | None = None) -> int:
        """Serve the session until ``done``, an error that ends it, or a disconnect.

        ``first`` is a message already read (the one that carried the API key). Returns the close
        code to end the connection with (the last message has been sent by then).
        """
        receiver = asyncio.ensure_future(self._receive_loop(first))
        speaker = asyncio.ensure_future(self._speak_loop())
        outcome: SessionClosed | None = None
        gone = False
        try:
            done, _ = await asyncio.wait({receiver, speaker}, return_when=asyncio.FIRST_COMPLETED)
            task = speaker if speaker in done else receiver
            try:
                task.result()
            except SessionClosed as e:
                outcome = e
            except ClientGone:
                gone = True
            except Exception:
                log.exception("real-time session failed")
                outcome = SessionClosed(ServiceError("the session failed; retry"), CLOSE_INTERNAL)
        finally:
            for task in (receiver, speaker):
                task.cancel()
            await asyncio.gather(receiver, speaker, return_exceptions=True)
            if self._place is not None:
                self._place.release()
            charged = await self._settle()
        if gone:
            return CLOSE_NORMAL
        if outcome is not None:
            if outcome.error is not None:
                self.close_reason = outcome.error.code
                await self._send_quietly(error_message(outcome.error))
            return outcome.close_code
        await self._send_quietly(
            {
                "type": "done",
                "audio_seconds": round(self.delivered_samples / self._engine.sample_rate, 3),
                "credits_charged": format_credits(charged),
            }
        )
        return CLOSE_NORMAL

    async def _receive_loop(self, first: dict[str, Any] | None) -> None:
        if first is not None:
            await self._handle(first)
        while True:
            try:
                message = parse_message(await self._channel.receive())
            except InvalidRequest as e:
                await self._send(error_message(e))
                continue
            await self._handle(message)

    async def _handle(self, message: dict[str, Any]) -> None:
        """Apply one client message; protocol errors are answered and the session goes on."""
        self._last_activity = time.monotonic()
        kind = message.get("type")
        try:
            if kind == "start":
                await self._start(message)
            elif kind in ("text", "flush", "end"):
                self._check_open(str(kind))
                if kind == "text":
                    self._add_text(message.get("text"))
                else:
                    self._segmenter.flush()
                    self._ended = kind == "end"
            elif kind is None and set(message) <= {"api_key"}:
                return  # a message that only carried the key
            else:
                raise InvalidRequest(
                    f"unknown message type {kind!r}; send start, text, flush or end",
                    code="unknown_message_type",
                )
        except (InsufficientCredits, Overloaded) as e:
            code = CLOSE_POLICY if isinstance(e, InsufficientCredits) else CLOSE_TRY_LATER
            raise SessionClosed(e, code) from e
        except ServiceError as e:
            await self._send(error_message(e))
        self._wake.set()

    def _check_open(self, kind: str) -> None:
        if self._voice is None:
            raise InvalidRequest(f'{kind!r} before "start": send a start message first', code="not_started")
        if self._ended:
            raise InvalidRequest(f'{kind!r} after "end": the session is finishing', code="session_ended")

    def _add_text(self, text: object) -> None:
        if not isinstance(text, str):
            raise InvalidRequest('"text" must be a string', code="invalid_message")
        if len(self._segmenter.pending) + len(text) > self._max_buffer:
            raise InvalidRequest(
                f"more than {self._max_buffer} characters are waiting to be spoken; this piece was "
                "dropped. Send text at most as fast as it is spoken, or flush.",
                code="text_buffer_full",
            )
        self._segmenter.feed(text)

    async def _start(self, message: dict[str, Any]) -> None:
        if self._voice is not None:
            raise InvalidRequest(
                "the session has already started; send text, flush or end", code="already_started"
            )
        voice = await anyio.to_thread.run_sync(partial(self._validate_start, message))
        self._hold = await anyio.to_thread.run_sync(
            partial(
                self._services.holds.reserve,
                account_id=self._account.id,
                min_micro=self._services.holds.cost(HOLD_MIN_MS),
                want_micro=self._services.holds.cost(HOLD_WANT_MS),
                reference=voice.voice_id[:80],
            )
        )
        self._voice = voice

    def _validate_start(self, message: dict[str, Any]) -> Voice:
        voice_id = message.get("voice_id")
        if not isinstance(voice_id, str) or not voice_id:
            raise InvalidRequest('start needs "voice_id", a voice id string', code="invalid_voice")
        speed = message.get("speed", 1.0)
        if speed is None:
            speed = 1.0
        if isinstance(speed, bool) or not isinstance(speed, int | float):
            raise InvalidRequest('"speed" must be a number', code="invalid_speed")
        self._engine.check_speed(float(speed))
        language = message.get("language")
        if language is not None and not isinstance(language, str):
            raise InvalidRequest('"language" must be a language code string', code="unsupported_language")
        timestamps = message.get("timestamps", False)
        if not isinstance(timestamps, bool):
            raise InvalidRequest('"timestamps" must be true or false', code="invalid_message")
        if timestamps and not self._engine.capabilities.timestamps:
            raise InvalidRequest(
                f"the {self._engine.name} engine cannot report word timestamps; start without them",
                code="timestamps_unavailable",
            )
        lang = self._engine.resolve_language(language)
        profile = self._services.speech.voice_profile(self._account, voice_id)
        return Voice(voice_id, profile, lang, float(speed), timestamps)

    # ------------------------------------------------------------------------------- speaking

    async def _speak_loop(self) -> None:
        while True:
            self._wake.clear()
            segment = self._segmenter.take() if self._voice is not None else None
            if segment is not None:
                await self._say(segment)
                self._last_activity = time.monotonic()
                continue
            if self._ended:
                return
            remaining = self._last_activity + self._idle_s - time.monotonic()
            if remaining <= 0:
                raise SessionClosed(
                    InvalidRequest(
                        f"no text for {self._idle_s:g} s; the session was closed", code="idle_timeout"
                    ),
                    CLOSE_POLICY,
                )
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=remaining)
            except TimeoutError:
                continue

    async def _say(self, text: str) -> None:
        """Synthesize one segment and send its chunks; engine errors are reported, not fatal."""
        voice = self._voice
        assert voice is not None  # segments are taken only after start
        try:
            utterance = await anyio.to_thread.run_sync(
                partial(
                    self._engine.prepare,
                    text,
                    voice.profile,
                    language=voice.language,
                    speed=voice.speed,
                    live=True,
                )
            )
        except ServiceError as e:
            if e.code != "empty_text":  # punctuation alone between pieces: nothing to say
                await self._send(error_message(e))
            return
        pool = self._services.pool
        if self._place is None:  # admitted as a live stream once, at its first segment
            try:
                self._place = pool.reserve(kind=Kind.STREAM, account=self._account.id)
            except Overloaded as e:
                raise SessionClosed(e, CLOSE_TRY_LATER) from e
        rate = self._engine.sample_rate
        try:
            chunks = pool.iterate(
                self._place,
                partial(_timed_chunks, self._engine, utterance, voice.timestamps, self._clip),
                seconds=lambda chunk: np.asarray(chunk.audio).size / rate,
                keep=True,
            )
            async with aclosing(chunks) as produced:
                async for chunk in produced:
                    await self._deliver(chunk, voice.timestamps)
        except Overloaded as e:
            raise SessionClosed(e, CLOSE_TRY_LATER) from e
        except (SessionClosed, ClientGone):
            raise
        except ServiceError as e:
            await self._send(error_message(e))

    async def _deliver(self, chunk: TimedChunk, timestamps: bool) -> None:
        pcm = to_int16(np.asarray(chunk.audio, dtype=np.float32).reshape(-1))
        if not pcm.size:
            return
        await self._pay_for(self.delivered_samples + pcm.size)
        offset = self.delivered_samples / self._engine.sample_rate
        message: dict[str, Any] = {"type": "audio", "audio": base64.b64encode(pcm.tobytes()).decode("ascii")}
        if timestamps:
            message["words"] = [
                {"word": w.word, "start": round(offset + w.start, 3), "end": round(offset + w.end, 3)}
                for w in chunk.words
            ]
        await self._send(message)
        self.delivered_samples += pcm.size

    async def _pay_for(self, needed_samples: int) -> None:
        """Record the delivered audio on the hold and make it cover ``needed_samples``, or close."""
        hold = self._hold
        assert hold is not None  # held at start
        rate = self._engine.sample_rate
        cover = partial(
            self._services.holds.cover,
            hold,
            delivered_ms=samples_to_ms(self.delivered_samples, rate),
            needed_ms=samples_to_ms(needed_samples, rate),
        )
        if await anyio.to_thread.run_sync(cover):
            return
        if hold.lost:
            raise SessionClosed(
                Overloaded("the session's credit hold expired; retry", code="credit_hold_expired"),
                CLOSE_TRY_LATER,
            )
        raise SessionClosed(
            InsufficientCredits(
                "the account's credits ran out; the audio sent so far is charged. Add credits and "
                "start a new session."
            ),
            CLOSE_POLICY,
        )

    # ------------------------------------------------------------------------------- plumbing

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self._channel.send(message)

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        try:
            await self._send(message)
        except ClientGone:
            log.debug("client gone before the last message")

    async def _settle(self) -> int:
        """Charge the delivered audio and release the hold (once; safe in a cancelled task)."""
        hold = self._hold
        if hold is None or hold.settled:
            return 0
        delivered_ms = samples_to_ms(self.delivered_samples, self._engine.sample_rate)
        settle = partial(self._services.holds.settle, hold, delivered_ms=delivered_ms)
        charged = 0
        with anyio.CancelScope(shield=True):
            charged = await anyio.to_thread.run_sync(settle)
        return charged


def _timed_chunks(
    engine: Engine, utterance: Utterance, timestamps: bool, clip: ClipMarker
) -> Iterator[TimedChunk]:
    """The engine's chunks of ``utterance``, watermarked by ``clip``, with their words (none unless
    ``timestamps``)."""
    source: Iterator[TimedChunk] | Iterator[np.ndarray]
    source = engine.stream_timed(utterance) if timestamps else engine.stream(utterance)
    try:
        for item in source:
            chunk = item if isinstance(item, TimedChunk) else TimedChunk(audio=np.asarray(item))
            yield TimedChunk(audio=clip.mark(chunk.audio), words=chunk.words)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # stops the engine at its next chunk
