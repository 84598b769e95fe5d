"""SQLAlchemy table models.

Money is stored as integer **micro-credits** (1 credit = 1,000,000) so sums are exact on every
database (SQLite has no exact decimal type); :mod:`voxclone.service.money` converts to and from
``Decimal`` at the edges. An account's balance is, by definition, the sum of its ledger rows;
credits reserved by speech in progress are :class:`CreditHold` rows, never ledger rows, and what an
account can spend is its balance minus its holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Current UTC time with microseconds dropped (stored and returned identically everywhere)."""
    return datetime.now(UTC).replace(microsecond=0)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LedgerEntry(Base):
    """One charge (negative) or top-up (positive); never updated, never deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_account_kind", "account_id", "kind"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # topup | clone | speech
    amount_micro: Mapped[int] = mapped_column(BigInteger)
    audio_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CreditHold(Base):
    """Credits reserved by one speech request in progress, until it is settled.

    ``reserved_micro`` is what the request may cost at most so far (it grows while audio is
    delivered past it); ``delivered_ms`` is the audio delivered so far, written per chunk, so a
    hold left behind by a crashed server is settled to exactly that. ``owner`` names the server
    process (``host:pid:token``) that refreshes ``updated_at`` while the request runs.
    """

    __tablename__ = "credit_holds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(String(120))
    reserved_micro: Mapped[int] = mapped_column(BigInteger)
    delivered_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class VoiceClone(Base):
    """A voice clone. ``similarity`` is filled in after creation by the self-check worker
    (:mod:`voxclone.service.selfcheck`): ``similarity_status`` is ``pending`` until then, then
    ``done``, ``failed`` or ``unavailable`` (the engine has no calibrated measure)."""

    __tablename__ = "voice_clones"
    __table_args__ = (
        Index("ix_voice_clones_account_id_id", "account_id", "id"),
        Index("ix_voice_clones_similarity_status", "similarity_status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    engine: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration_s: Mapped[float] = mapped_column(Float)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON)
    similarity: Mapped[float | None] = mapped_column(Float, nullable=True)
    profile_key: Mapped[str] = mapped_column(String(120))
    reference_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    similarity_status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    similarity_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    similarity_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    check_key: Mapped[str | None] = mapped_column(String(120), nullable=True)


class IdempotencyRecord(Base):
    """The stored response of a request made with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Blob(Base):
    """Binary objects (profiles, reference audio) when the deployment keeps blobs in the database."""

    __tablename__ = "blobs"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentPolicy(Base):
    """An account's override of ``VOXCLONE_REQUIRE_CONSENT`` (no row: the server's setting)."""

    __tablename__ = "consent_policies"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    require_consent: Mapped[bool] = mapped_column(Boolean)


class ConsentChallenge(Base):
    """A phrase handed out for a spoken consent; ``used_at``/``clone_id`` are set by the clone it
    consented to (once), which also deletes it."""

    __tablename__ = "consent_challenges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    speaker_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phrase: Mapped[str] = mapped_column(String(1000))
    statement: Mapped[str] = mapped_column(String(1000))
    words: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    clone_id: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ConsentRecord(Base):
    """The evidence of a clone's spoken consent, kept as long as the clone."""

    __tablename__ = "consent_records"

    clone_id: Mapped[str] = mapped_column(ForeignKey("voice_clones.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    challenge_id: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(16))
    phrase: Mapped[str] = mapped_column(String(1000))
    transcript: Mapped[str] = mapped_column(String(4000))
    word_score: Mapped[float] = mapped_column(Float)
    speaker_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    speaker_threshold: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))  # consent_audio | reference
    audio_sha256: Mapped[str] = mapped_column(String(64))
    audio_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    api_key_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
