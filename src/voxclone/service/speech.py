"""Speech synthesis for the OuteAI and OpenAI routes: validate, resolve the voice, run, charge.

Billing rule (also in ``docs/errors.md``): a request is refused with 402 ``insufficient_credits``
before any work when the balance is below the cost of its *minimal* audio, estimated as
``max(1, len(text) / 20 / speed)`` seconds (20 characters per second is faster than natural
speech, so the estimate rarely exceeds what is produced). Afterwards exactly the audio delivered
is charged, 0.001 credits per second rounded to the millisecond, also when the client
disconnects or generation fails midway; nothing delivered, nothing charged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass

import numpy as np

from voxclone.engines.base import Engine
from voxclone.errors import InsufficientCredits, InvalidRequest, NotFound
from voxclone.service.accounts import AccountRef
from voxclone.service.clones import CloneService
from voxclone.service.money import format_credits, samples_to_ms, speech_cost_micro
from voxclone.service.pool import Slot, SynthesisPool
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.db import Database
from voxclone.voices.profile import VoiceProfile

log = logging.getLogger(__name__)

FORMATS = ("wav", "mp3", "opus", "aac", "flac", "pcm")
ESTIMATE_CHARS_PER_SECOND = 20
ENGINE_SPEED_RANGE = (0.5, 2.0)
SPEED_RANGE = (0.25, 4.0)


@dataclass(frozen=True)
class SpeechRequest:
    """What to say and how. ``speed`` 0.25–4.0; ``format`` one of :data:`FORMATS`."""

    text: str
    voice_id: str
    format: str = "wav"
    speed: float = 1.0
    language: str | None = None


@dataclass
class SpeechJob:
    """A validated, paid-for-in-principle request holding its worker slot."""

    account: AccountRef
    request: SpeechRequest
    profile: VoiceProfile
    language: str | None
    slot: Slot
    sample_rate: int
    delivered_samples: int = 0
    charged: bool = False

    @property
    def content_type(self) -> str:
        from voxclone.audio.encode import content_type

        return content_type(self.request.format)


class SpeechService:
    """Turns validated requests into audio bytes on the worker pool and bills what was delivered."""

    def __init__(
        self, *, db: Database, engine: Engine, pool: SynthesisPool, clones: CloneService, settings: Settings
    ):
        self._db = db
        self._engine = engine
        self._pool = pool
        self._clones = clones
        self._settings = settings

    def prepare(self, *, account: AccountRef, request: SpeechRequest) -> SpeechJob:
        """Validate, resolve the voice, check credits and reserve a worker (blocking DB calls)."""
        text = request.text.strip() if isinstance(request.text, str) else ""
        if not text:
            raise InvalidRequest("text must not be empty", code="empty_text")
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
        speed = float(request.speed)
        if not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
            raise InvalidRequest(
                f"speed must be between {SPEED_RANGE[0]} and {SPEED_RANGE[1]}", code="invalid_speed"
            )
        language = self._language(request.language)
        profile = self._resolve_voice(account, request.voice_id)
        self._check_credits(account, len(text), speed)
        slot = self._pool.reserve()
        req = SpeechRequest(text=text, voice_id=request.voice_id, format=fmt, speed=speed, language=language)
        return SpeechJob(
            account=account,
            request=req,
            profile=profile,
            language=language,
            slot=slot,
            sample_rate=self._engine.sample_rate,
        )

    def _language(self, language: str | None) -> str | None:
        if not language:
            return None
        known = self._engine.languages()
        lang = language.lower().replace("_", "-")
        if lang in known:
            return lang
        for candidate in known:
            if candidate.split("-")[0] == lang:
                return candidate
        raise InvalidRequest(
            f"language {language!r} is not supported; choose one of {', '.join(known)}",
            code="unsupported_language",
        )

    def _resolve_voice(self, account: AccountRef, voice_id: str) -> VoiceProfile:
        if not isinstance(voice_id, str) or not voice_id:
            raise InvalidRequest("voice_id must be a non-empty string", code="invalid_voice")
        builtin = self._engine.resolve_voice(voice_id)  # a built-in id or alias (OpenAI's "alloy"…)
        if builtin is not None:
            return self._engine.builtin_profile(builtin)
        if voice_id.startswith("vc_"):
            return self._clones.load_profile(account=account, voice_id=voice_id)
        raise NotFound(
            f"voice {voice_id!r} not found; GET /api/v1/voices lists the voices you can use",
            code="voice_not_found",
        )

    def _check_credits(self, account: AccountRef, chars: int, speed: float) -> None:
        estimate_ms = max(1000, int(chars * 1000 / ESTIMATE_CHARS_PER_SECOND / speed))
        need = speech_cost_micro(audio_ms=estimate_ms, cost_per_second=self._settings.cost_per_second)
        with self._db.sessions() as session:
            balance = repo.balance_micro(session, account_id=account.id)
        if balance < need:
            raise InsufficientCredits(
                f"this request needs at least {format_credits(need)} credits; the balance is "
                f"{format_credits(balance)}"
            )

    # ------------------------------------------------------------------------------ synthesis

    def _chunks(self, job: SpeechJob) -> Iterator[np.ndarray]:
        speed = job.request.speed
        engine_speed = min(max(speed, ENGINE_SPEED_RANGE[0]), ENGINE_SPEED_RANGE[1])
        tempo = speed / engine_speed
        chunks = self._engine.synthesize(
            job.request.text, job.profile, language=job.language, speed=engine_speed
        )
        try:
            for chunk in chunks:
                audio = np.asarray(chunk, dtype=np.float32).reshape(-1)
                if abs(tempo - 1.0) > 1e-6 and audio.size:
                    from voxclone.audio.tempo import change_tempo

                    audio = np.asarray(change_tempo(audio, job.sample_rate, tempo), dtype=np.float32)
                if audio.size:
                    yield audio
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    async def stream(self, job: SpeechJob) -> AsyncGenerator[bytes, None]:
        """Encoded bytes as chunks are synthesized; charges what was delivered when it ends."""
        from voxclone.audio.encode import open_encoder

        encoder = open_encoder(job.request.format, job.sample_rate)
        pending = 0
        try:
            async for audio in self._pool.iterate(job.slot, lambda: self._chunks(job)):
                pending += audio.size
                data = encoder.encode(audio)
                if data:
                    yield data
                    job.delivered_samples += pending
                    pending = 0
            tail = encoder.finish()
            if tail:
                yield tail
            job.delivered_samples += pending
        finally:
            job.slot.release()
            self.charge(job)

    async def render(self, job: SpeechJob) -> bytes:
        """The whole file (exact WAV sizes); charged once the audio is complete."""
        from voxclone.audio.encode import encode_all

        try:
            chunks = [audio async for audio in self._pool.iterate(job.slot, lambda: self._chunks(job))]
            audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
            data = await asyncio.to_thread(encode_all, audio, job.sample_rate, job.request.format)
            job.delivered_samples = int(audio.size)
            return data
        finally:
            job.slot.release()
            self.charge(job)

    def charge(self, job: SpeechJob) -> None:
        """Bill ``job.delivered_samples`` once (a ledger row; nothing when nothing was delivered)."""
        if job.charged:
            return
        job.charged = True
        audio_ms = samples_to_ms(job.delivered_samples, job.sample_rate)
        if audio_ms <= 0:
            return
        cost = speech_cost_micro(audio_ms=audio_ms, cost_per_second=self._settings.cost_per_second)
        with self._db.write_sessions.begin() as session:
            repo.add_ledger_entry(
                session,
                account_id=job.account.id,
                kind="speech",
                amount_micro=-cost,
                audio_ms=audio_ms,
                reference=job.request.voice_id[:80],
            )
