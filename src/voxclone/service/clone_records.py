"""What the clone service hands out and checks: clone records, and the validation of names, ids and
idempotency keys (before any of them reaches a query)."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from voxclone.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound, Unprocessable
from voxclone.service.consent import Evidence
from voxclone.service.money import format_credits, to_micro
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.ids import is_ulid_id
from voxclone.store.models import VoiceClone

MAX_NAME_CHARS = 200
MAX_IDEMPOTENCY_KEY_CHARS = 255


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


def check_voice_id(voice_id: str) -> None:
    """404 ``voice_not_found`` for anything that is not a clone id, before it reaches a query."""
    if not is_ulid_id(voice_id, "vc"):
        raise NotFound(f"voice {voice_id!r} not found", code="voice_not_found")


def has_control(value: str) -> bool:
    """Whether ``value`` holds a control character (C0, DEL, C1) or a lone surrogate, which no
    database column should store (PostgreSQL refuses NUL outright)."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value)


def check_name(name: str) -> None:
    """1–200 characters, not only spaces, no control characters (400 ``invalid_name``)."""
    if not name or not name.strip():
        raise InvalidRequest("name must not be empty", code="invalid_name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidRequest(f"name must be at most {MAX_NAME_CHARS} characters", code="invalid_name")
    if has_control(name):
        raise InvalidRequest(
            "name must not contain control characters (NUL, line breaks, tabs…)", code="invalid_name"
        )


def check_idempotency_key(key: str) -> None:
    """1–255 characters without control characters (400 ``invalid_idempotency_key``)."""
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS or has_control(key):
        raise InvalidRequest(
            f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters without control "
            "characters (a UUID is a good key)",
            code="invalid_idempotency_key",
        )


def request_fingerprint(name: str, audio: bytes) -> str:
    digest = hashlib.sha256(name.encode("utf-8"))
    digest.update(b"\0")
    digest.update(audio)
    return digest.hexdigest()


def replay_clone(session: Session, account_id: str, key: str, fingerprint: str) -> CloneCreated | None:
    """The stored answer of an earlier create with this ``Idempotency-Key`` (with the self-check's
    current state), ``None`` when there is none; 422 ``idempotency_key_reused`` for another request."""
    stored = repo.get_idempotency(session, account_id=account_id, key=key)
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was already used with a different request; use a new key",
            code="idempotency_key_reused",
        )
    record = CloneRecord(**stored.response)
    row = session.get(VoiceClone, record.voice_id)
    if row is not None and row.account_id == account_id:  # the self-check may have finished since
        record = replace(record, similarity=row.similarity, similarity_status=row.similarity_status)
    return CloneCreated(record=record, replayed=True)


def check_can_create(session: Session, account_id: str, settings: Settings) -> None:
    """402 when the account cannot pay for a clone, 409 ``clone_limit_reached`` at its limit (call
    with the account row locked)."""
    cost = to_micro(settings.clone_cost)
    balance, held = repo.balance_and_held(session, account_id=account_id)
    if balance - held < cost:
        funds = f"the balance is {format_credits(balance)}"
        if held:
            funds += f", of which {format_credits(held)} is held by speech in progress"
        raise InsufficientCredits(
            f"creating a voice clone costs {format_credits(cost)} credits; {funds}. "
            "Add credits with `voxclone admin add-credits`."
        )
    limit = settings.max_clones_per_account
    if repo.count_clones(session, account_id=account_id) >= limit:
        raise Conflict(
            f"this account already holds the maximum of {limit} voice clones; delete one first",
            code="clone_limit_reached",
        )
