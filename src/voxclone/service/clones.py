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

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voxclone.engines.base import Engine
from voxclone.errors import Conflict, InvalidRequest, NotFound
from voxclone.service.accounts import AccountRef
from voxclone.service.clone_records import (
    CloneCreated,
    CloneRecord,
    Enrolled,
    check_can_create,
    check_idempotency_key,
    check_name,
    check_voice_id,
    replay_clone,
    request_fingerprint,
)
from voxclone.service.consent import ConsentService, PendingConsent
from voxclone.service.money import to_micro
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

_PROFILE_CACHE_SIZE = 128


class CloneService:
    """Owns the voice-clone life cycle for authenticated accounts."""

    def __init__(
        self,
        *,
        db: Database,
        engine: Engine,
        pool: SynthesisPool,
        settings: Settings,
        analyzer: ReferenceAnalyzer | None = None,
        wake_checks: Callable[[], None] | None = None,
    ):
        """``analyzer``: the intake models; loaded on first use when omitted.
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
        check_name(name)
        if idempotency_key is not None:
            check_idempotency_key(idempotency_key)
        with self._db.sessions() as session:
            if idempotency_key:
                stored = replay_clone(session, account.id, idempotency_key, request_fingerprint(name, audio))
                if stored is not None:
                    return stored
            check_can_create(session, account.id, self._settings)
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
                    check_can_create(session, account.id, self._settings)
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
                            fingerprint=request_fingerprint(name, audio),
                            status_code=201,
                            response=record.as_dict(),
                        )
                    blobs.join(session)
                # the commit above is the last step in the blob transaction: nothing may follow it
        except IntegrityError:
            if idempotency_key:
                # a concurrent request with the same key won the race: answer with its result
                with self._db.sessions() as session:
                    stored = replay_clone(
                        session, account.id, idempotency_key, request_fingerprint(name, audio)
                    )
                if stored is not None:
                    return stored
            raise
        return CloneCreated(record=record, replayed=False)

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
        check_voice_id(voice_id)
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

    def _get(self, session: Session, account: AccountRef, voice_id: str) -> VoiceClone:
        check_voice_id(voice_id)
        row = repo.get_clone(session, account_id=account.id, clone_id=voice_id)
        if row is None:
            raise NotFound(f"voice {voice_id!r} not found", code="voice_not_found")
        return row
