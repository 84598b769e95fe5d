"""Voice clones: create (intake → enroll → self-check → store → charge), list, get, delete.

Creation is all-or-nothing: blobs are written first and the clone row, its charge and its
idempotency record are committed in one transaction; on any failure the blobs are removed again,
so a failed request leaves no clone and no charge.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError

from voxclone.engines.base import Engine
from voxclone.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound, Unprocessable
from voxclone.service.accounts import AccountRef
from voxclone.service.money import format_credits, to_micro
from voxclone.service.pool import SynthesisPool
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.db import Database
from voxclone.store.ids import is_ulid_id, new_id
from voxclone.store.models import VoiceClone
from voxclone.voices.profile import VoiceProfile

log = logging.getLogger(__name__)

SELF_CHECK_TEXT = "The quick brown fox jumps over the lazy dog."
MAX_NAME_CHARS = 200
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
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CloneCreated:
    record: CloneRecord
    replayed: bool  # True when an Idempotency-Key replay returned a stored result


@dataclass(frozen=True)
class _Enrolled:
    profile: bytes
    duration_s: float
    quality: dict[str, Any]
    similarity: float | None


class CloneService:
    """Owns the voice-clone life cycle for authenticated accounts."""

    def __init__(
        self, *, db: Database, engine: Engine, pool: SynthesisPool, settings: Settings, analyzer: Any = None
    ):
        """``analyzer``: the intake models (a ``ReferenceAnalyzer``); loaded on first use when omitted."""
        self._db = db
        self._engine = engine
        self._pool = pool
        self._settings = settings
        self._cache: OrderedDict[str, VoiceProfile] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._analyzer_obj: Any = analyzer
        self._analyzer_lock = threading.Lock()

    # ----------------------------------------------------------------------------------- create

    def precheck(
        self, *, account: AccountRef, name: str, audio: bytes, idempotency_key: str | None
    ) -> CloneCreated | None:
        """Cheap checks before any work: name, replay, credits, clone limit.

        Returns the stored result when ``idempotency_key`` was already used for the same request.
        """
        _check_name(name)
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
    ) -> CloneCreated:
        """Create a clone from an uploaded reference recording and charge ``clone_cost``."""
        stored = self.precheck(account=account, name=name, audio=audio, idempotency_key=idempotency_key)
        if stored is not None:
            return stored
        slot = self._pool.reserve()
        enrolled = await self._pool.run(slot, lambda: self._enroll(audio, filename, content_type))
        return self._commit(account, name, audio, enrolled, idempotency_key)

    def _enroll(self, data: bytes, filename: str | None, content_type: str | None) -> _Enrolled:
        from voxclone.audio.intake import prepare_reference

        prepared = prepare_reference(
            data,
            filename=filename,
            content_type=content_type,
            target_sample_rate=self._engine.sample_rate,
            analyzer=self._analyzer(),
        )
        profile = self._engine.enroll(prepared.audio, prepared.sample_rate)
        quality = dict(prepared.quality)
        if prepared.notes:
            quality.setdefault("notes", list(prepared.notes))
        return _Enrolled(
            profile=profile.to_bytes(),
            duration_s=round(float(prepared.duration_s), 3),
            quality=quality,
            similarity=self._self_check(profile, prepared.audio, prepared.sample_rate),
        )

    def _self_check(self, profile: VoiceProfile, reference: np.ndarray, sample_rate: int) -> float | None:
        """How much the new clone sounds like its reference, 0 (a stranger) to 1 (the speaker).

        Kokoro clones use the cloning package's calibrated score; other engines get the clipped
        d-vector cosine between the reference and a sentence spoken by the new profile.
        """
        if self._engine.name == "kokoro":
            try:
                from voxclone.engines.kokoro.cloning import similarity
            except ImportError as e:
                log.warning("calibrated self-check unavailable (%s); using the raw cosine", e)
            else:
                return round(float(similarity(self._engine, profile, reference, sample_rate)), 4)
        try:
            encoder = self._analyzer().encoder
            spoken = self._engine.generate(SELF_CHECK_TEXT, profile)
            a = encoder.embed(reference, sample_rate)
            b = encoder.embed(spoken, self._engine.sample_rate)
        except (ImportError, OSError, RuntimeError, ValueError) as e:
            log.warning("similarity self-check skipped: %s", e)
            return None
        denom = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
        return round(max(0.0, float(np.dot(a, b)) / denom), 4)

    def _analyzer(self) -> Any:
        """The intake models, shared for the server's lifetime (the speaker encoder loads once)."""
        with self._analyzer_lock:
            if self._analyzer_obj is None:
                from voxclone.audio.intake import ReferenceAnalyzer

                self._analyzer_obj = ReferenceAnalyzer(threads=1)
            return self._analyzer_obj

    def _commit(
        self, account: AccountRef, name: str, audio: bytes, enrolled: _Enrolled, idempotency_key: str | None
    ) -> CloneCreated:
        clone_id = new_id("vc")
        profile_key = f"{clone_id}/profile"
        reference_key = f"{clone_id}/reference" if self._settings.keep_reference_audio else None
        blobs = self._db.blobs
        try:
            blobs.put(profile_key, enrolled.profile)
            if reference_key:
                blobs.put(reference_key, audio)
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
                    similarity=enrolled.similarity,
                    profile_key=profile_key,
                    reference_key=reference_key,
                )
                session.add(row)
                session.flush()
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
        except BaseException as e:
            blobs.delete(profile_key)
            if reference_key:
                blobs.delete(reference_key)
            if isinstance(e, IntegrityError) and idempotency_key:
                # a concurrent request with the same key won the race: answer with its result
                with self._db.sessions() as session:
                    stored = self._replay(session, account, idempotency_key, _fingerprint(name, audio))
                if stored is not None:
                    return stored
            raise
        return CloneCreated(record=record, replayed=False)

    def _replay(self, session: Any, account: AccountRef, key: str, fingerprint: str) -> CloneCreated | None:
        if len(key) > 255:
            raise InvalidRequest(
                "Idempotency-Key must be at most 255 characters", code="invalid_idempotency_key"
            )
        stored = repo.get_idempotency(session, account_id=account.id, key=key)
        if stored is None:
            return None
        if stored.fingerprint != fingerprint:
            raise Unprocessable(
                "this Idempotency-Key was already used with a different request; use a new key",
                code="idempotency_key_reused",
            )
        return CloneCreated(record=CloneRecord(**stored.response), replayed=True)

    def _check_can_create(self, session: Any, account_id: str) -> None:
        cost = to_micro(self._settings.clone_cost)
        balance = repo.balance_micro(session, account_id=account_id)
        if balance < cost:
            raise InsufficientCredits(
                f"creating a voice clone costs {format_credits(cost)} credits; the balance is "
                f"{format_credits(balance)}. Add credits with `voxclone admin add-credits`."
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
        with self._db.sessions() as session:
            rows = repo.list_clones(session, account_id=account.id, limit=limit + 1, before_id=after)
        return [CloneRecord.from_row(r) for r in rows[:limit]], len(rows) > limit

    def retrieve(self, *, account: AccountRef, voice_id: str) -> CloneRecord:
        with self._db.sessions() as session:
            return CloneRecord.from_row(self._get(session, account, voice_id))

    def delete(self, *, account: AccountRef, voice_id: str) -> None:
        """Remove the clone at once, then its profile and reference audio."""
        with self._db.write_sessions.begin() as session:
            row = self._get(session, account, voice_id)
            keys = [k for k in (row.profile_key, row.reference_key) if k]
            session.delete(row)
        with self._cache_lock:
            self._cache.pop(voice_id, None)
        for key in keys:
            self._db.blobs.delete(key)

    def load_profile(self, *, account: AccountRef, voice_id: str) -> VoiceProfile:
        """The profile of one of the caller's clones (404 ``voice_not_found`` otherwise)."""
        with self._db.sessions() as session:
            row = self._get(session, account, voice_id)
            key = row.profile_key
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
        with self._cache_lock:
            self._cache[voice_id] = profile
            while len(self._cache) > _PROFILE_CACHE_SIZE:
                self._cache.popitem(last=False)
        return profile

    def _get(self, session: Any, account: AccountRef, voice_id: str) -> VoiceClone:
        row = None
        if is_ulid_id(voice_id, "vc"):
            row = repo.get_clone(session, account_id=account.id, clone_id=voice_id)
        if row is None:
            raise NotFound(f"voice {voice_id!r} not found", code="voice_not_found")
        return row


def _check_name(name: str) -> None:
    if not name or not name.strip():
        raise InvalidRequest("name must not be empty", code="invalid_name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"name must be at most {MAX_NAME_CHARS} characters", code="invalid_name")


def _fingerprint(name: str, audio: bytes) -> str:
    digest = hashlib.sha256(name.encode("utf-8"))
    digest.update(b"\0")
    digest.update(audio)
    return digest.hexdigest()
