"""Voice clones: create (intake → enroll → store → charge), list, get, delete.

The self-check (a synthesized test sentence compared with the reference, seconds of CPU) is not
part of creation: the clone is stored with ``similarity_status = "pending"`` and the prepared
reference in a check blob, and :class:`voxclone.service.selfcheck.SimilarityWorker` fills in the
score afterwards, at low priority, on whichever server process claims it first.

Creation is all-or-nothing: blobs are written first and the clone row, its charge and its
idempotency record are committed in one transaction; on any failure the blobs are removed again,
so a failed request leaves no clone and no charge.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
import numpy as np
from sqlalchemy.exc import IntegrityError

from voxclone.engines.base import Engine
from voxclone.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound, Unprocessable
from voxclone.service.accounts import AccountRef
from voxclone.service.consent import ConsentService, Evidence, PendingConsent
from voxclone.service.money import format_credits, to_micro
from voxclone.service.pool import SynthesisPool
from voxclone.service.scheduling import Kind
from voxclone.service.selfcheck import encode_check_audio
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.db import Database
from voxclone.store.ids import is_ulid_id, new_id
from voxclone.store.models import VoiceClone
from voxclone.voices.profile import VoiceProfile

if TYPE_CHECKING:
    from voxclone.audio.intake import ReferenceAnalyzer
    from voxclone.audio.speaker import SpeakerEncoder

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 200
MAX_IDEMPOTENCY_KEY_CHARS = 255
_PROFILE_CACHE_SIZE = 128


def iso(ts: datetime) -> str:
    """``2026-03-28T14:22:10Z``."""
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CloneRecord:
    """A stored clone as shown to its owner."""

    voice_id: str
    name: str
    created_at: str
    engine: str
    duration_s: float
    similarity: float | None
    quality: dict[str, Any]
    has_reference_audio: bool
    similarity_status: str = "done"  # pending | done | failed | unavailable

    @classmethod
    def from_row(cls, row: VoiceClone) -> CloneRecord:
        return cls(
            voice_id=row.id,
            name=row.name,
            created_at=iso(row.created_at),
            engine=row.engine,
            duration_s=row.duration_s,
            similarity=row.similarity,
            quality=row.quality,
            has_reference_audio=row.reference_key is not None,
            similarity_status=row.similarity_status,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CloneCreated:
    record: CloneRecord
    replayed: bool  # True when an Idempotency-Key replay returned a stored result


@dataclass(frozen=True)
class Enrolled:
    """An enrolled reference: the profile, the prepared audio (float32 mono at ``sample_rate``
    Hz, kept for the deferred self-check) and the quality report."""

    profile: bytes
    duration_s: float
    quality: dict[str, Any]
    reference: np.ndarray
    sample_rate: int
    held_out: np.ndarray | None = None  # a long upload's speech outside the window, for the check
    evidence: Evidence | None = None


class CloneService:
    """Owns the voice-clone life cycle for authenticated accounts."""

    def __init__(
        self,
        *,
        db: Database,
        engine: Engine,
        pool: SynthesisPool,
        settings: Settings,
        analyzer: Any = None,
        wake_checks: Callable[[], None] | None = None,
    ):
        """``analyzer``: the intake models (a ``ReferenceAnalyzer``); loaded on first use when omitted.
        ``wake_checks``: tells the self-check worker a new clone waits for its score."""
        self._db = db
        self._engine = engine
        self._pool = pool
        self._settings = settings
        self._wake_checks = wake_checks  # tells the self-check worker that a check is pending
        self._cache: OrderedDict[str, VoiceProfile] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._analyzer_obj: ReferenceAnalyzer | None = analyzer
        self._analyzer_lock = threading.Lock()
        self.consent: ConsentService | None = None  # set by the container (spoken consent)

    # ----------------------------------------------------------------------------------- create

    def precheck(
        self, *, account: AccountRef, name: str, audio: bytes, idempotency_key: str | None
    ) -> CloneCreated | None:
        """Cheap checks before any work: name, replay, credits, clone limit.

        Returns the stored result when ``idempotency_key`` was already used for the same request.
        """
        _check_name(name)
        if idempotency_key is not None:
            _check_idempotency_key(idempotency_key)
        with self._db.sessions() as session:
            if idempotency_key:
                stored = self._replay(session, account, idempotency_key, _fingerprint(name, audio))
                if stored is not None:
                    return stored
            self._check_can_create(session, account.id)
        return None

    async def create(
        self,
        *,
        account: AccountRef,
        name: str,
        audio: bytes,
        filename: str | None,
        content_type: str | None,
        idempotency_key: str | None = None,
        consent_challenge_id: str | None = None,
        consent_audio: bytes | None = None,
    ) -> CloneCreated:
        """Create a clone from an uploaded reference recording and charge ``clone_cost``.

        The clone comes back with ``similarity_status`` ``pending`` (filled in later by the
        self-check worker) or ``unavailable`` (the engine has no calibrated measure). Database and
        blob work runs on worker threads, never on the event loop.

        With ``consent_challenge_id`` (required when the account's consent policy is on), the
        speaker's spoken consent is checked first: ``consent_audio`` (or, without it, the reference
        itself) must say the challenge's phrase in the reference's voice; the evidence is kept.
        """
        stored = await anyio.to_thread.run_sync(
            lambda: self.precheck(account=account, name=name, audio=audio, idempotency_key=idempotency_key)
        )
        if stored is not None:
            return stored
        pending = None
        if self.consent is not None:
            consent = self.consent
            pending = await anyio.to_thread.run_sync(
                lambda: consent.begin(account=account, challenge_id=consent_challenge_id)
            )
        slot = self._pool.reserve(kind=Kind.ENROLL, account=account.id)
        enrolled = await self._pool.run(
            slot,
            lambda: self.enroll_reference(
                audio, filename, content_type, consent=pending, consent_audio=consent_audio
            ),
        )
        created = await anyio.to_thread.run_sync(
            lambda: self._commit(account, name, audio, enrolled, idempotency_key)
        )
        if not created.replayed:
            self._notify_checks()
        return created

    def _notify_checks(self) -> None:
        if self._wake_checks is not None and self._engine.capabilities.self_check:
            self._wake_checks()

    def enroll_reference(
        self,
        data: bytes,
        filename: str | None,
        content_type: str | None,
        *,
        consent: PendingConsent | None = None,
        consent_audio: bytes | None = None,
    ) -> Enrolled:
        """Intake (decode, checks, quality report), the consent checks when ``consent`` is given,
        and enrollment of an uploaded recording; blocking, CPU-heavy (run it on the worker pool).
        No self-check: see the module doc."""
        from voxclone.audio.intake import prepare_reference

        prepared = prepare_reference(
            data,
            filename=filename,
            content_type=content_type,
            target_sample_rate=self._engine.sample_rate,
            analyzer=self._analyzer(),
        )
        evidence = None
        if consent is not None and self.consent is not None:
            evidence = self.consent.verify(
                consent,
                consent_audio=consent_audio,
                reference=prepared.audio,
                reference_rate=prepared.sample_rate,
                reference_bytes=data,
            )
        profile = self._engine.enroll(prepared.audio, prepared.sample_rate)
        quality = dict(prepared.quality)
        if prepared.notes:
            quality.setdefault("notes", list(prepared.notes))
        return Enrolled(
            profile=profile.to_bytes(),
            duration_s=round(float(prepared.duration_s), 3),
            quality=quality,
            reference=prepared.audio,
            sample_rate=prepared.sample_rate,
            held_out=prepared.held_out,
            evidence=evidence,
        )

    def speaker_encoder(self) -> SpeakerEncoder:
        """The process's d-vector encoder (the engine's when it holds one)."""
        return self._analyzer().encoder

    def _check_blob(self, key: str, enrolled: Enrolled) -> tuple[str, bytes] | None:
        """``(key, bytes)`` of the deferred self-check's input, or ``None`` when the engine has
        no calibrated measure (the clone's ``similarity_status`` is then ``unavailable``)."""
        if not self._engine.capabilities.self_check:
            return None
        return key, encode_check_audio(enrolled.reference, enrolled.sample_rate, held_out=enrolled.held_out)

    def _analyzer(self) -> ReferenceAnalyzer:
        """The intake models, shared for the server's lifetime (with the engine's speaker encoder)."""
        with self._analyzer_lock:
            if self._analyzer_obj is None:
                from voxclone.audio.intake import ReferenceAnalyzer

                self._analyzer_obj = ReferenceAnalyzer(threads=1, encoder=self._engine.speaker_encoder)
            return self._analyzer_obj

    def _commit(
        self, account: AccountRef, name: str, audio: bytes, enrolled: Enrolled, idempotency_key: str | None
    ) -> CloneCreated:
        """Store the blobs and commit the clone row, its charge and idempotency record together.

        Crash-consistent: the blobs join the row's database transaction (PostgreSQL) or are
        written under a locked pending marker that outlives a crash (files), so a process killed
        at any step leaves the whole clone or nothing once the start-up sweep has run.
        """
        clone_id = new_id("vc")
        profile_key = f"{clone_id}/profile"
        reference_key = f"{clone_id}/reference" if self._settings.keep_reference_audio else None
        check = self._check_blob(f"{clone_id}/check", enrolled)
        try:
            with self._db.blobs.transaction(group=clone_id) as blobs:
                blobs.put(profile_key, enrolled.profile)
                if reference_key:
                    blobs.put(reference_key, audio)
                if check is not None:
                    blobs.put(*check)
                with self._db.write_sessions.begin() as session:
                    repo.get_account(session, account_id=account.id, for_update=True)
                    self._check_can_create(session, account.id)
                    row = VoiceClone(
                        id=clone_id,
                        account_id=account.id,
                        name=name,
                        engine=self._engine.name,
                        duration_s=enrolled.duration_s,
                        quality=enrolled.quality,
                        similarity=None,
                        similarity_status="pending" if check else "unavailable",
                        check_key=check[0] if check else None,
                        profile_key=profile_key,
                        reference_key=reference_key,
                    )
                    session.add(row)
                    session.flush()
                    if enrolled.evidence is not None and self.consent is not None:
                        self.consent.record(
                            session, blobs, clone_id=clone_id, account=account, evidence=enrolled.evidence
                        )
                    record = CloneRecord.from_row(row)
                    repo.add_ledger_entry(
                        session,
                        account_id=account.id,
                        kind="clone",
                        amount_micro=-to_micro(self._settings.clone_cost),
                        reference=clone_id,
                    )
                    if idempotency_key:
                        repo.add_idempotency(
                            session,
                            account_id=account.id,
                            key=idempotency_key,
                            fingerprint=_fingerprint(name, audio),
                            status_code=201,
                            response=record.as_dict(),
                        )
                    blobs.join(session)
                # the commit above is the last step in the blob transaction: nothing may follow it
        except IntegrityError:
            if idempotency_key:
                # a concurrent request with the same key won the race: answer with its result
                with self._db.sessions() as session:
                    stored = self._replay(session, account, idempotency_key, _fingerprint(name, audio))
                if stored is not None:
                    return stored
            raise
        return CloneCreated(record=record, replayed=False)

    def _replay(self, session: Any, account: AccountRef, key: str, fingerprint: str) -> CloneCreated | None:
        stored = repo.get_idempotency(session, account_id=account.id, key=key)
        if stored is None:
            return None
        if stored.fingerprint != fingerprint:
            raise Unprocessable(
                "this Idempotency-Key was already used with a different request; use a new key",
                code="idempotency_key_reused",
            )
        record = CloneRecord(**stored.response)
        row = session.get(VoiceClone, record.voice_id)
        if row is not None and row.account_id == account.id:  # the self-check may have finished since
            record = replace(record, similarity=row.similarity, similarity_status=row.similarity_status)
        return CloneCreated(record=record, replayed=True)

    def _check_can_create(self, session: Any, account_id: str) -> None:
        cost = to_micro(self._settings.clone_cost)
        balance, held = repo.balance_and_held(session, account_id=account_id)
        if balance - held < cost:
            funds = f"the balance is {format_credits(balance)}"
            if held:
                funds += f", of which {format_credits(held)} is held by speech in progress"
            raise InsufficientCredits(
                f"creating a voice clone costs {format_credits(cost)} credits; {funds}. "
                "Add credits with `voxclone admin add-credits`."
            )
        limit = self._settings.max_clones_per_account
        if repo.count_clones(session, account_id=account_id) >= limit:
            raise Conflict(
                f"this account already holds the maximum of {limit} voice clones; delete one first",
                code="clone_limit_reached",
            )

    # ----------------------------------------------------------------------------- read/delete

    def list(
        self, *, account: AccountRef, limit: int = 20, after: str | None = None
    ) -> tuple[list[CloneRecord], bool]:
        """One page, newest first, and whether more follow (continue with ``after`` = last id)."""
        if not 1 <= limit <= 100:
            raise InvalidRequest("limit must be between 1 and 100", code="invalid_limit")
        if after is not None and not is_ulid_id(after, "vc"):
            raise InvalidRequest(
                "after must be a voice_id from the previous page (its next_cursor)", code="invalid_cursor"
            )
        with self._db.sessions() as session:
            rows = repo.list_clones(session, account_id=account.id, limit=limit + 1, before_id=after)
        return [CloneRecord.from_row(r) for r in rows[:limit]], len(rows) > limit

    def consent_evidence(self, *, account: AccountRef, voice_id: str) -> dict[str, Any]:
        """The spoken-consent evidence kept with one of the caller's clones (404 when none)."""
        with self._db.sessions() as session:
            self._get(session, account, voice_id)
            found = ConsentService.evidence(session, clone_id=voice_id)
        if found is None:
            raise NotFound(
                f"voice {voice_id!r} was created without a spoken consent", code="consent_not_found"
            )
        return found

    def retrieve(self, *, account: AccountRef, voice_id: str) -> CloneRecord:
        with self._db.sessions() as session:
            return CloneRecord.from_row(self._get(session, account, voice_id))

    def delete(self, *, account: AccountRef, voice_id: str) -> None:
        """Remove the clone, its profile and reference audio.

        The row and the blobs go in one step on PostgreSQL; with files, the row goes first and the
        files right after, under a pending marker, so a crash in between leaves files that the
        start-up sweep removes (never a row without its blobs).
        """
        _check_voice_id(voice_id)
        with (
            self._db.blobs.transaction(group=voice_id) as blobs,
            self._db.write_sessions.begin() as session,
        ):
            row = self._get(session, account, voice_id)
            ConsentService.remove(session, blobs, clone_id=voice_id)
            session.flush()
            for key in (row.profile_key, row.reference_key, row.check_key):
                if key:
                    blobs.delete(key)
            session.delete(row)
            blobs.join(session)
        self.forget(voice_id)

    def reenroll(self, *, voice_id: str, profile_key: str, reference_key: str) -> VoiceProfile:
        """Enroll a clone again from its kept reference audio with the engine's current method,
        replace its profile and mark its self-check ``pending`` again; returns the new profile
        (blocking, CPU-heavy).

        Replacing the profile blob is atomic, so a crash leaves the old or the new profile.
        """
        enrolled = self.enroll_reference(self._db.blobs.get(reference_key), None, None)
        check = self._check_blob(f"{voice_id}/check_{secrets.token_hex(4)}", enrolled)
        if check is not None:
            self._db.blobs.put(*check)  # before the row names it; an orphan is swept at start
        self._db.blobs.put(profile_key, enrolled.profile)
        with self._db.write_sessions.begin() as session:
            old = repo.mark_similarity_pending(
                session, clone_id=voice_id, check_key=check[0] if check else None
            )
        if old:
            self._db.blobs.delete(old)
        self.forget(voice_id)
        self._notify_checks()
        log.info("re-enrolled %s with the %s engine's current cloning method", voice_id, self._engine.name)
        return VoiceProfile.from_bytes(enrolled.profile)

    def is_outdated(self, profile: VoiceProfile) -> bool:
        """Whether the engine no longer reads ``profile`` (re-enroll it with :meth:`reenroll`)."""
        return self._engine.profile_outdated(profile)

    def forget(self, voice_id: str) -> None:
        """Drop a cached profile (after it was deleted or re-enrolled)."""
        with self._cache_lock:
            self._cache.pop(voice_id, None)

    def load_profile(self, *, account: AccountRef, voice_id: str) -> VoiceProfile:
        """The profile of one of the caller's clones (404 ``voice_not_found`` otherwise)."""
        with self._db.sessions() as session:
            row = self._get(session, account, voice_id)
            key, reference_key = row.profile_key, row.reference_key
        with self._cache_lock:
            cached = self._cache.get(voice_id)
        if cached is not None:
            return cached
        try:
            profile = VoiceProfile.from_bytes(self._db.blobs.get(key))
        except NotFound as e:
            raise NotFound(f"voice {voice_id!r} was deleted", code="voice_not_found") from e
        if profile.engine != self._engine.name:
            raise Conflict(
                f"voice {voice_id!r} was made by engine {profile.engine!r}; this server runs "
                f"{self._engine.name!r}",
                code="voice_engine_mismatch",
            )
        if self.is_outdated(profile) and reference_key is not None:
            # an older cloning method's profile: re-create it from the kept recording (once)
            profile = self.reenroll(voice_id=voice_id, profile_key=key, reference_key=reference_key)
        with self._cache_lock:
            self._cache[voice_id] = profile
            while len(self._cache) > _PROFILE_CACHE_SIZE:
                self._cache.popitem(last=False)
        return profile

    def _get(self, session: Any, account: AccountRef, voice_id: str) -> VoiceClone:
        _check_voice_id(voice_id)
        row = repo.get_clone(session, account_id=account.id, clone_id=voice_id)
        if row is None:
            raise NotFound(f"voice {voice_id!r} not found", code="voice_not_found")
        return row


def _check_voice_id(voice_id: str) -> None:
    """404 ``voice_not_found`` for anything that is not a clone id, before it reaches a query."""
    if not is_ulid_id(voice_id, "vc"):
        raise NotFound(f"voice {voice_id!r} not found", code="voice_not_found")


def _has_control(value: str) -> bool:
    """Whether ``value`` holds a control character (C0, DEL, C1) or a lone surrogate, which no
    database column should store (PostgreSQL refuses NUL outright)."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


def _check_name(name: str) -> None:
    """1–200 characters, not only spaces, no control characters (400 ``invalid_name``)."""
    if not name or not name.strip():
        raise InvalidRequest("name must not be empty", code="invalid_name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"name must be at most {MAX_NAME_CHARS} characters", code="invalid_name")
    if _has_control(name):
        raise InvalidRequest(
            "name must not contain control characters (NUL, line breaks, tabs…)", code="invalid_name"
        )


def _check_idempotency_key(key: str) -> None:
    """1–255 characters without control characters (400 ``invalid_idempotency_key``)."""
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS or _has_control(key):
        raise InvalidRequest(
            f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters without control "
            "characters (a UUID is a good key)",
            code="invalid_idempotency_key",
        )


def _fingerprint(name: str, audio: bytes) -> str:
    digest = hashlib.sha256(name.encode("utf-8"))
    digest.update(b"\0")
    digest.update(audio)
    return digest.hexdigest()
