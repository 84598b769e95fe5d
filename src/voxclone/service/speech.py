"""Speech synthesis for the OuteAI and OpenAI routes: validate, resolve the voice, run, charge.

Billing rule (also in ``docs/errors.md`` and the README): speech costs 0.001 credits per second of
audio *delivered*, rounded to the millisecond, and an account never spends more than it has.

* Before any work the request holds credits (:mod:`voxclone.service.holds`): a generous estimate
  of its audio, ``len(text) / 8 / speed + 2`` seconds, bounded by what the account has
  available (balance minus what its other requests in progress hold). When even the *minimal*
  estimate, ``max(1, len(text) / 20 / speed)`` seconds, is not available, the request is refused
  with 402 ``insufficient_credits`` and nothing is charged.
* A stream grows its hold chunk by chunk when its audio outgrows it; when the account cannot pay
  for the next chunk, the stream ends there. A whole file that outgrows what the account can pay
  for is refused with 402 ``insufficient_credits`` and costs nothing.
* At the end exactly the audio delivered is charged (one ``speech`` ledger row) and the hold is
  released: streamed audio up to the last chunk sent, also when the client disconnects or
  generation fails midway; a whole file (also one with word timestamps) only once it has been
  sent (a client that leaves before gets nothing and pays nothing).
* Each streamed chunk is recorded on the hold as it is delivered, so audio delivered before a crash
  is charged when the hold is recovered (at most one chunk is lost).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Generator, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial

import anyio
import numpy as np

from voxclone.engines.base import Engine, TimedChunk, Utterance, WordTiming, unknown_voice
from voxclone.errors import InsufficientCredits, InvalidRequest, Overloaded, ServiceError
from voxclone.service.accounts import AccountRef
from voxclone.service.clones import CloneService
from voxclone.service.holds import CreditHolds, Hold
from voxclone.service.money import format_credits, samples_to_ms
from voxclone.service.pool import Slot, SynthesisPool
from voxclone.service.scheduling import Kind
from voxclone.service.watermarking import ClipMarker, Watermarking, mark_chunks
from voxclone.settings import Settings
from voxclone.store.db import Database
from voxclone.voices.profile import VoiceProfile

log = logging.getLogger(__name__)

FORMATS = ("wav", "mp3", "opus", "aac", "flac", "pcm")
ESTIMATE_CHARS_PER_SECOND = 20  # the minimal estimate: faster than natural speech
HOLD_CHARS_PER_SECOND = 8  # the generous estimate held before synthesis: slower than natural speech
HOLD_MARGIN_MS = 2000
NATURAL_CHARS_PER_SECOND = 14  # how long the scheduler expects the audio to be (whole files are due by it)


@dataclass(frozen=True)
class SpeechRequest:
    """What to say and how. ``speed`` within the engine's limits; ``format`` one of :data:`FORMATS`."""

    text: str
    voice_id: str
    format: str = "wav"
    speed: float = 1.0
    language: str | None = None


@dataclass
class SpeechJob:
    """A validated request holding its worker slot and its credits until :meth:`SpeechService.settle`."""

    account: AccountRef
    request: SpeechRequest
    utterance: Utterance
    slot: Slot
    hold: Hold
    sample_rate: int
    delivered_samples: int = 0  # samples the client received (what is charged)
    rendered_samples: int = 0  # samples of a whole file rendered so far

    @property
    def content_type(self) -> str:
        from voxclone.audio.encode import content_type

        return content_type(self.request.format)


class SpeechService:
    """Turns validated requests into audio bytes on the worker pool and bills what was delivered."""

    def __init__(
        self,
        *,
        db: Database,
        engine: Engine,
        pool: SynthesisPool,
        clones: CloneService,
        holds: CreditHolds,
        settings: Settings,
    ):
        self._db = db
        self._holds = holds
        self._engine = engine
        self._pool = pool
        self._clones = clones
        self._settings = settings
        self._watermark = Watermarking.from_settings(settings, sample_rate=engine.sample_rate)

    def prepare(
        self, *, account: AccountRef, request: SpeechRequest, timestamps: bool = False, live: bool = False
    ) -> SpeechJob:
        """Validate, resolve the voice, hold credits and reserve a place in the pool (blocking DB calls).

        ``live``: a listener plays the audio as it arrives (a stream): its chunks are scheduled by
        playback deadline and it is admitted only while the pool's measured capacity has room
        (:mod:`~voxclone.service.scheduling`); otherwise it is a whole file, due by its length.

        The job must end in :meth:`stream`, :meth:`render` / :meth:`render_file` (or
        :meth:`render_file_timed`) + :meth:`settle`, or :meth:`close`, which release the worker and
        the credits. ``timestamps``: the job will want word timestamps; refused with 400
        ``timestamps_unavailable`` (before anything is held) when the engine cannot give them.
        """
        if timestamps and not self._engine.capabilities.timestamps:
            raise InvalidRequest(
                f"the {self._engine.name} engine cannot report word timestamps; use tts_non_stream",
                code="timestamps_unavailable",
            )
        text = request.text if isinstance(request.text, str) else ""
        limit = self._settings.max_text_chars
        if len(text) > limit:
            raise InvalidRequest(
                f"text is {len(text)} characters; the limit is {limit}. Split it into several requests.",
                code="text_too_long",
            )
        fmt = (request.format or "wav").lower()
        if fmt not in FORMATS:
            raise InvalidRequest(
                f"unsupported response format {request.format!r}; choose one of {', '.join(FORMATS)}",
                code="unsupported_format",
            )
        profile = self._resolve_voice(account, request.voice_id)
        # every engine rule (text, language, speed, voice) is checked here, before any header
        utterance = self._engine.prepare(
            text.strip(), profile, language=request.language, speed=float(request.speed), live=live
        )
        text, speed = utterance.text, utterance.speed
        hold = self._hold_credits(account, request.voice_id, len(text), speed)
        try:
            slot = self._pool.reserve(
                kind=Kind.STREAM if live else Kind.FILE,
                account=account.id,
                audio_s=len(text) / NATURAL_CHARS_PER_SECOND / speed,
            )
        except BaseException:
            self._holds.settle(hold, delivered_ms=0)
            raise
        req = SpeechRequest(
            text=text, voice_id=request.voice_id, format=fmt, speed=speed, language=utterance.language
        )
        return SpeechJob(
            account=account,
            request=req,
            utterance=utterance,
            slot=slot,
            hold=hold,
            sample_rate=self._engine.sample_rate,
        )

    def voice_profile(self, account: AccountRef, voice_id: str) -> VoiceProfile:
        """The profile ``voice_id`` names for ``account`` (a built-in voice, an alias or one of its
        clones); raises ``voice_not_found`` / ``invalid_voice`` (blocking DB call for clones)."""
        return self._resolve_voice(account, voice_id)

    def _resolve_voice(self, account: AccountRef, voice_id: str) -> VoiceProfile:
        if not isinstance(voice_id, str) or not voice_id:
            raise InvalidRequest("voice_id must be a non-empty string", code="invalid_voice")
        if voice_id.startswith("vc_"):
            return self._clones.load_profile(account=account, voice_id=voice_id)
        builtin = self._engine.resolve_voice(voice_id)
        if builtin is None:
            raise unknown_voice(voice_id)
        return self._engine.builtin_profile(builtin)

    def _hold_credits(self, account: AccountRef, voice_id: str, chars: int, speed: float) -> Hold:
        """Hold the generous estimate (bounded by what is available), at least the minimal one."""
        minimal_ms = max(1000, int(chars * 1000 / ESTIMATE_CHARS_PER_SECOND / speed))
        generous_ms = max(minimal_ms, int(chars * 1000 / HOLD_CHARS_PER_SECOND / speed) + HOLD_MARGIN_MS)
        return self._holds.reserve(
            account_id=account.id,
            min_micro=self._holds.cost(minimal_ms),
            want_micro=self._holds.cost(generous_ms),
            reference=voice_id[:80],
        )

    # ------------------------------------------------------------------------------ synthesis

    def clip_marker(self, account: AccountRef) -> ClipMarker:
        """The watermark for one clip (or real-time session) of ``account``: ``.mark(chunk)`` on
        each chunk in order; marks nothing when ``VOXCLONE_WATERMARK=off``. For synthesis paths that
        do not go through :meth:`_chunks` (the WebSocket's timed chunks)."""
        return self._watermark.clip(account.id) if self._watermark else ClipMarker(None)

    def _chunks(self, job: SpeechJob) -> Generator[np.ndarray, None, None]:
        """The engine's stream of the job's utterance (empty chunks dropped), watermarked
        (:mod:`voxclone.service.watermarking`): every route, format and stream passes here."""
        chunks = self._engine.stream(job.utterance)
        marker = self._watermark.marker(job.account.id) if self._watermark else None
        try:
            nonempty = (a for a in (np.asarray(c, dtype=np.float32).reshape(-1) for c in chunks) if a.size)
            yield from mark_chunks(nonempty, marker)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # stops the engine's generator at its next chunk

    def _timed_chunks(self, job: SpeechJob) -> Iterator[TimedChunk]:
        """The engine's timed stream of the job's utterance (chunks without audio or words dropped),
        watermarked like :meth:`_chunks`."""
        chunks = self._engine.stream_timed(job.utterance)
        clip = self.clip_marker(job.account)  # the same mark as the untimed path
        try:
            for chunk in chunks:
                audio = clip.mark(np.asarray(chunk.audio, dtype=np.float32).reshape(-1))
                if audio.size or chunk.words:
                    yield TimedChunk(audio, tuple(chunk.words))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    async def _cover(self, job: SpeechJob, needed_samples: int) -> bool:
        """Record the delivered audio on the hold and make it pay for ``needed_samples``."""
        cover = partial(
            self._holds.cover,
            job.hold,
            delivered_ms=samples_to_ms(job.delivered_samples, job.sample_rate),
            needed_ms=samples_to_ms(needed_samples, job.sample_rate),
        )
        return await anyio.to_thread.run_sync(cover)

    async def stream(self, job: SpeechJob) -> AsyncGenerator[bytes, None]:
        """Encoded bytes as chunks are synthesized; charges what was delivered when it ends.

        A chunk counts as delivered once the consumer asks for the next one (or the stream ends),
        and is recorded on the hold then. The stream ends early when the account cannot pay for
        the next chunk; closing it early (client gone) stops synthesis at the next chunk.
        """
        from voxclone.audio.encode import open_encoder

        encoder = open_encoder(job.request.format, job.sample_rate)
        pending = 0
        try:
            async with aclosing(
                self._pool.iterate(
                    job.slot, lambda: self._chunks(job), seconds=lambda audio: audio.size / job.sample_rate
                )
            ) as chunks:
                async for audio in chunks:
                    pending += audio.size
                    data = encoder.encode(audio)
                    if not data:
                        continue
                    if not await self._cover(job, job.delivered_samples + pending):
                        return  # the account cannot pay for this chunk: the stream ends here
                    yield data
                    job.delivered_samples += pending
                    pending = 0
            tail = encoder.finish()
            if (tail or pending) and await self._cover(job, job.delivered_samples + pending):
                if tail:
                    yield tail
                job.delivered_samples += pending
        finally:
            job.slot.release()
            await self.settle(job)

    async def render_file(self, job: SpeechJob) -> bytes:
        """The whole file (exact WAV sizes), held but not charged yet: set ``delivered_samples``
        once it has been delivered, then :meth:`settle`. Fails with 402 ``insufficient_credits``
        (nothing charged) as soon as the audio outgrows what the account can pay for; when it fails
        or is cancelled (client gone) the worker and the credits are released."""
        data, _ = await self._render(job, timed=False)
        return data

    async def render_file_timed(self, job: SpeechJob) -> tuple[bytes, list[WordTiming]]:
        """:meth:`render_file` and when each word is spoken: ``text_words(text)`` in order, times in
        seconds from the start of the file (each chunk's words shifted by the audio before it).
        Needs an engine with ``capabilities.timestamps`` (see :meth:`prepare`)."""
        return await self._render(job, timed=True)

    async def _render(self, job: SpeechJob, *, timed: bool) -> tuple[bytes, list[WordTiming]]:
        from voxclone.audio.encode import encode_all

        def plain() -> Iterator[TimedChunk]:
            chunks = self._chunks(job)
            try:
                for audio in chunks:
                    yield TimedChunk(audio)
            finally:
                chunks.close()  # stops the engine's generator at its next chunk

        def produce() -> Iterator[TimedChunk]:
            return self._timed_chunks(job) if timed else plain()

        try:
            chunks: list[np.ndarray] = []
            words: list[WordTiming] = []
            async with aclosing(
                self._pool.iterate(
                    job.slot, produce, seconds=lambda chunk: chunk.audio.size / job.sample_rate
                )
            ) as produced:
                async for chunk in produced:
                    audio = chunk.audio
                    if not await self._cover(job, job.rendered_samples + audio.size):
                        raise self._cannot_pay(job)
                    offset = job.rendered_samples / job.sample_rate
                    words += [
                        WordTiming(w.word, round(offset + w.start, 4), round(offset + w.end, 4))
                        for w in chunk.words
                    ]
                    job.rendered_samples += audio.size
                    chunks.append(audio)
            audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
            data = await asyncio.to_thread(encode_all, audio, job.sample_rate, job.request.format)
            return data, words
        except BaseException:
            job.slot.release()
            await self.settle(job)  # nothing delivered: the hold is released, nothing charged
            raise
        finally:
            job.slot.release()

    async def render(self, job: SpeechJob) -> bytes:
        """The whole file, charged as delivered once returned (for in-process callers)."""
        data = await self.render_file(job)
        job.delivered_samples = job.rendered_samples
        await self.settle(job)
        return data

    def _cannot_pay(self, job: SpeechJob) -> ServiceError:
        if job.hold.lost:
            return Overloaded(
                "this request's credit hold expired before it finished; nothing was charged, retry",
                code="credit_hold_expired",
            )
        seconds = job.rendered_samples / job.sample_rate
        return InsufficientCredits(
            f"this text needs more than {seconds:.1f} s of audio, more than the account can pay for "
            f"({format_credits(job.hold.reserved_micro)} credits); nothing was charged. Add credits, "
            "split the text or stream it (a stream stops where the credits end)."
        )

    async def settle(self, job: SpeechJob) -> None:
        """Charge ``job.delivered_samples`` and release the hold, once (nothing delivered, nothing
        charged). Completes even inside a cancelled task (shielded), so it is safe in ``finally``."""
        if job.hold.settled:
            return
        settle = partial(
            self._holds.settle, job.hold, delivered_ms=samples_to_ms(job.delivered_samples, job.sample_rate)
        )
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(settle)

    async def close(self, job: SpeechJob) -> None:
        """Release the worker and settle (for jobs that end before or instead of synthesis)."""
        job.slot.release()
        await self.settle(job)

    def discard(self, job: SpeechJob) -> None:
        """:meth:`close` on the calling worker thread (blocking), for a job made for a request that
        is already gone: nothing was delivered, so nothing is charged."""
        job.slot.release()
        self._holds.settle(job.hold, delivered_ms=0)
