"""Spoken consent before cloning: challenges, the offline checks, and the evidence kept with a clone.

Flow: :meth:`ConsentService.create_challenge` hands out a phrase (a consent statement plus random
words, valid ``consent_challenge_ttl_s`` seconds, usable once). The clone upload names it;
:meth:`ConsentService.begin` validates it before any heavy work, :meth:`ConsentService.verify` runs
the word check (Whisper tiny.en) and the speaker check (d-vector cosine between the consent voice and
the reference) on the worker pool, and :meth:`ConsentService.record` stores the evidence and spends
the challenge inside the clone's own database and blob transaction.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from voxclone.audio.speaker import SpeakerEncoder, resample
from voxclone.consent.asr import ConsentUnavailable, Recognizer, available
from voxclone.consent.check import SPEAKER_THRESHOLD
from voxclone.consent.inputs import check_language, check_speaker_name
from voxclone.consent.phrase import check_words, new_phrase, normalize_words
from voxclone.engines.base import describe_error
from voxclone.errors import Conflict, NotFound, ServiceError, Unprocessable
from voxclone.service.accounts import AccountRef
from voxclone.settings import Settings
from voxclone.store.blobs import BlobTransaction
from voxclone.store.db import Database
from voxclone.store.ids import is_ulid_id, new_id
from voxclone.store.models import ConsentChallenge, ConsentPolicy, ConsentRecord, utcnow

log = logging.getLogger(__name__)

MAX_CONSENT_SECONDS = 60.0
PURGE_AFTER = timedelta(days=1)
"""Unused challenges are deleted this long after they expire (when a challenge is created, and at
start): until then a late upload is told ``consent_challenge_expired`` and when, afterwards
``consent_challenge_not_found``. Used ones stay with their clone's evidence until it is deleted."""


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


class ConsentRequired(ServiceError):
    code = "consent_required"
    status = 403


class ChallengeExpired(ServiceError):
    code = "consent_challenge_expired"
    status = 410


@dataclass(frozen=True)
class Challenge:
    """A challenge as shown to its owner."""

    challenge_id: str
    phrase: str
    language: str
    expires_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PendingConsent:
    """A valid, unused challenge named by a clone upload."""

    challenge_id: str
    phrase: str
    statement: str
    words: tuple[str, ...]
    language: str


@dataclass(frozen=True)
class Evidence:
    """What the checks found; stored with the clone by :meth:`ConsentService.record`."""

    challenge_id: str
    language: str
    phrase: str
    transcript: str
    word_score: float
    speaker_score: float | None
    source: str  # consent_audio | reference
    audio: bytes


class ConsentService:
    """Challenges, checks and evidence of spoken consent (one per server process)."""

    def __init__(self, *, db: Database, settings: Settings, encoder: Callable[[], SpeakerEncoder]):
        self._db = db
        self._settings = settings
        self._encoder = encoder
        self._recognizer: Recognizer | None = None
        self._failure: str | None = None  # why the recogniser last failed to load
        self._lock = threading.Lock()

    # ----------------------------------------------------------------------------- policy

    def available(self) -> bool:
        """Whether the offline recogniser is installed (``voxclone[consent]``) and, once it has been
        loaded, loaded without error."""
        return available() and self._failure is None

    def require_ready(self) -> None:
        """Load the recogniser now (a server that requires consent checks it at start).

        Raises
        ------
        ConsentUnavailable
            It is not installed, or it failed to load (the reason is in the message).
        """
        self.recognizer()

    def required(self, *, account: AccountRef) -> bool:
        """The account's override when set, else ``VOXCLONE_REQUIRE_CONSENT``."""
        with self._db.sessions() as session:
            row = session.get(ConsentPolicy, account.id)
        return self._settings.require_consent if row is None else bool(row.require_consent)

    def _check_available(self) -> None:
        if not self.available():
            raise ConsentUnavailable(
                "the spoken consent check needs an offline recogniser that is not installed; "
                "the operator can install it with: pip install 'voxclone[consent]'"
            )

    # ------------------------------------------------------------------------- challenges

    def create_challenge(
        self, *, account: AccountRef, language: str | None = None, speaker_name: str | None = None
    ) -> Challenge:
        """A new phrase for ``account`` to read, valid ``consent_challenge_ttl_s`` seconds, once."""
        lang = check_language(language)
        name = check_speaker_name(speaker_name)
        self._check_available()
        phrase = new_phrase(speaker_name=name)
        now = utcnow()
        row = ConsentChallenge(
            id=new_id("cc"),
            account_id=account.id,
            language=lang,
            speaker_name=name,
            phrase=phrase.text,
            statement=phrase.statement,
            words=list(phrase.words),
            created_at=now,
            expires_at=now + timedelta(seconds=self._settings.consent_challenge_ttl_s),
        )
        with self._db.write_sessions.begin() as session:
            _purge_expired(session, now=now)
            session.add(row)
            session.flush()
            return Challenge(
                challenge_id=row.id, phrase=row.phrase, language=lang, expires_at=_iso(row.expires_at)
            )

    def purge_expired(self) -> int:
        """Delete the unused challenges that expired more than :data:`PURGE_AFTER` ago; how many."""
        with self._db.write_sessions.begin() as session:
            return _purge_expired(session, now=utcnow())

    def begin(self, *, account: AccountRef, challenge_id: str | None) -> PendingConsent | None:
        """Validate a clone upload's consent fields before any heavy work.

        ``None`` when no challenge was named and the account's policy does not require one.
        """
        if not challenge_id:
            if self.required(account=account):
                raise ConsentRequired(
                    "this server requires the speaker's spoken consent before cloning: create a "
                    "challenge with POST /api/v1/consent-challenges, record the speaker reading its "
                    "phrase, and send consent_challenge_id (and consent_audio) with the upload"
                )
            return None
        self._check_available()
        with self._db.sessions() as session:
            row = self._get_challenge(session, account, challenge_id)
            if row.used_at is not None:
                raise Conflict(
                    f"consent challenge {challenge_id!r} was already used for a clone; create a new one",
                    code="consent_challenge_used",
                )
            if row.expires_at <= utcnow():
                raise ChallengeExpired(
                    f"consent challenge {challenge_id!r} expired at {_iso(row.expires_at)}; create a new "
                    "one and record its phrase again"
                )
            return PendingConsent(
                challenge_id=row.id,
                phrase=row.phrase,
                statement=row.statement,
                words=tuple(row.words),
                language=row.language,
            )

    def _get_challenge(self, session: Session, account: AccountRef, challenge_id: str) -> ConsentChallenge:
        row = None
        if is_ulid_id(challenge_id, "cc"):
            row = session.get(ConsentChallenge, challenge_id)
        if row is None or row.account_id != account.id:
            raise NotFound(
                f"consent challenge {challenge_id!r} not found (unused challenges are deleted a day "
                "after they expire); create one with POST /api/v1/consent-challenges",
                code="consent_challenge_not_found",
            )
        return row

    # ----------------------------------------------------------------------------- checks

    def recognizer(self) -> Recognizer:
        """The loaded recogniser (loaded on first use; a failed load is retried on the next call).

        Raises
        ------
        ConsentUnavailable
            Not installed, or the model failed to load (``available()`` is then false).
        """
        with self._lock:
            if self._recognizer is None:
                recognizer = Recognizer(threads=1)
                try:
                    recognizer.load()
                except ConsentUnavailable:
                    raise
                except Exception as e:  # a broken install or model file: said in health and in the 503
                    self._failure = describe_error(e)
                    log.error("the spoken consent recogniser failed to load: %s", self._failure)
                    raise ConsentUnavailable(
                        f"the spoken consent recogniser failed to load ({self._failure}); the operator "
                        "can reinstall it with: pip install --force-reinstall 'voxclone[consent]'"
                    ) from e
                self._recognizer, self._failure = recognizer, None
            return self._recognizer

    def verify(
        self,
        pending: PendingConsent,
        *,
        consent_audio: bytes | None,
        reference: np.ndarray,
        reference_rate: int,
        reference_bytes: bytes,
    ) -> Evidence:
        """Run the word and speaker checks (blocking, CPU-heavy: run it on the worker pool).

        ``reference`` is the prepared reference recording (mono float32 at ``reference_rate`` Hz).
        Without ``consent_audio`` the reference itself must contain the phrase. The speaker is
        checked first (cheaper, and a stranger's voice is the graver refusal).
        """
        if consent_audio is not None:
            from voxclone.audio.decode import decode_audio

            decoded = decode_audio(consent_audio, max_seconds=MAX_CONSENT_SECONDS)
            speech = resample(decoded.audio, decoded.sample_rate, 16000)
        else:
            speech = resample(reference, reference_rate, 16000)
        speaker_score: float | None = None
        if consent_audio is not None:
            encoder = self._encoder()
            a = encoder.embed(speech, 16000)
            b = encoder.embed(reference, reference_rate)
            speaker_score = round(float(np.dot(a, b)), 4)
            if speaker_score < SPEAKER_THRESHOLD:
                raise Unprocessable(
                    f"the voice reading the consent phrase does not match the reference voice "
                    f"(similarity {speaker_score:.2f}, at least {SPEAKER_THRESHOLD:.2f} needed); the "
                    "person being cloned must read the phrase themselves",
                    code="consent_speaker_mismatch",
                    details={"speaker_score": speaker_score, "threshold": SPEAKER_THRESHOLD},
                )
        heard = self.recognizer().transcribe(speech)
        verdict = check_words(heard=heard, statement=pending.statement, words=pending.words)
        if not verdict.accepted:
            missing = [w for w, ok in zip(pending.words, verdict.words_heard, strict=True) if not ok]
            why = (
                f"the check words {', '.join(missing)} were not heard"
                if missing
                else (f"only {verdict.statement_score:.0%} of the statement was heard")
            )
            where = "consent_audio" if consent_audio is not None else "the reference recording"
            raise Unprocessable(
                f"{where} does not say the challenge phrase ({why}). Heard: {heard!r}. Expected: "
                f"{pending.phrase!r}. Record the speaker reading the whole phrase clearly.",
                code="consent_phrase_mismatch",
                details={"heard": heard, "expected": pending.phrase, "word_score": verdict.score},
            )
        return Evidence(
            challenge_id=pending.challenge_id,
            language=pending.language,
            phrase=pending.phrase,
            transcript=heard,
            word_score=verdict.score,
            speaker_score=speaker_score,
            source="consent_audio" if consent_audio is not None else "reference",
            audio=consent_audio if consent_audio is not None else reference_bytes,
        )

    # --------------------------------------------------------------------------- evidence

    def record(
        self,
        session: Session,
        blobs: BlobTransaction,
        *,
        clone_id: str,
        account: AccountRef,
        evidence: Evidence,
    ) -> None:
        """Spend the challenge and store the evidence inside the clone's own transaction.

        A challenge spent by a concurrent upload in the meantime refuses this one (409).
        """
        now = utcnow()
        spent = session.execute(
            update(ConsentChallenge)
            .where(
                ConsentChallenge.id == evidence.challenge_id,
                ConsentChallenge.account_id == account.id,
                ConsentChallenge.used_at.is_(None),
            )
            .values(used_at=now, clone_id=clone_id)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"consent challenge {evidence.challenge_id!r} was already used for a clone; create a new one",
                code="consent_challenge_used",
            )
        audio_key = None
        if self._settings.keep_reference_audio and evidence.source == "consent_audio":
            audio_key = f"{clone_id}/consent"
            blobs.put(audio_key, evidence.audio)
        elif self._settings.keep_reference_audio:
            audio_key = f"{clone_id}/reference"  # the reference itself holds the phrase
        session.add(
            ConsentRecord(
                clone_id=clone_id,
                account_id=account.id,
                challenge_id=evidence.challenge_id,
                language=evidence.language,
                phrase=evidence.phrase,
                transcript=evidence.transcript[:4000],
                word_score=evidence.word_score,
                speaker_score=evidence.speaker_score,
                speaker_threshold=SPEAKER_THRESHOLD,
                source=evidence.source,
                audio_sha256=hashlib.sha256(evidence.audio).hexdigest(),
                audio_key=audio_key,
                api_key_id=account.key_id,
                created_at=now,
            )
        )

    @staticmethod
    def evidence(session: Session, *, clone_id: str) -> dict[str, Any] | None:
        """The stored evidence of a clone as shown to its owner, or ``None``."""
        row = session.get(ConsentRecord, clone_id)
        if row is None:
            return None
        return {
            "voice_id": row.clone_id,
            "challenge_id": row.challenge_id,
            "language": row.language,
            "phrase": row.phrase,
            "transcript": row.transcript,
            "word_score": row.word_score,
            "speaker_score": row.speaker_score,
            "speaker_threshold": row.speaker_threshold,
            "source": row.source,
            "audio_sha256": row.audio_sha256,
            "has_audio": row.audio_key is not None,
            "api_key_id": row.api_key_id,
            "created_at": _iso(row.created_at),
        }

    @staticmethod
    def remove(session: Session, blobs: BlobTransaction, *, clone_id: str) -> None:
        """Delete a clone's evidence and its challenge (inside the clone's delete transaction)."""
        row = session.get(ConsentRecord, clone_id)
        if row is not None:
            if row.audio_key and row.audio_key.endswith("/consent"):
                blobs.delete(row.audio_key)
            session.delete(row)
        session.execute(delete(ConsentChallenge).where(ConsentChallenge.clone_id == clone_id))


def _purge_expired(session: Session, *, now: datetime) -> int:
    stale = delete(ConsentChallenge).where(
        ConsentChallenge.used_at.is_(None), ConsentChallenge.expires_at < now - PURGE_AFTER
    )
    result = session.execute(stale.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = ["Challenge", "ConsentService", "Evidence", "PendingConsent", "normalize_words"]
