"""Persistence functions: each takes an open ``Session``; callers own the transaction."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from voxclone.store.models import (
    Account,
    ApiKey,
    CreditHold,
    IdempotencyRecord,
    LedgerEntry,
    VoiceClone,
    utcnow,
)

# accounts -------------------------------------------------------------------------------------


def get_account(session: Session, *, account_id: str, for_update: bool = False) -> Account | None:
    """The account, optionally locked for the rest of the transaction (PostgreSQL)."""
    stmt = select(Account).where(Account.id == account_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def get_account_by_name(session: Session, *, name: str) -> Account | None:
    return session.scalar(select(Account).where(Account.name == name))


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.created_at, Account.id)))


def count_accounts(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Account)) or 0)


# keys -----------------------------------------------------------------------------------------


def find_active_key(session: Session, *, key_hash: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None)))


def find_account_by_key(session: Session, *, key_hash: str) -> tuple[str, str, str] | None:
    """``(account_id, name, key_id)`` owning the active key with ``key_hash`` (one query)."""
    stmt = (
        select(Account.id, Account.name, ApiKey.id)
        .join(ApiKey, ApiKey.account_id == Account.id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    row = session.execute(stmt).first()
    return (row[0], row[1], row[2]) if row else None


def account_totals(session: Session, *, account_id: str) -> tuple[int, int, int, int, int]:
    """``(balance_micro, audio_ms, clones, active_keys, held_micro)`` in one query."""
    ledger = LedgerEntry.account_id == account_id
    stmt = select(
        select(func.coalesce(func.sum(LedgerEntry.amount_micro), 0)).where(ledger).scalar_subquery(),
        select(func.coalesce(func.sum(LedgerEntry.audio_ms), 0)).where(ledger).scalar_subquery(),
        select(func.count())
        .select_from(VoiceClone)
        .where(VoiceClone.account_id == account_id)
        .scalar_subquery(),
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
        .scalar_subquery(),
        _held(account_id),
    )
    row = session.execute(stmt).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4])


def find_keys(session: Session, *, key_hash: str | None = None, prefix: str | None = None) -> list[ApiKey]:
    stmt = select(ApiKey)
    if key_hash is not None:
        stmt = stmt.where(ApiKey.key_hash == key_hash)
    if prefix is not None:
        stmt = stmt.where(ApiKey.prefix == prefix)
    return list(session.scalars(stmt))


def active_key_count(session: Session, *, account_id: str) -> int:
    stmt = select(func.count()).where(ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
    return int(session.scalar(stmt) or 0)


# ledger ---------------------------------------------------------------------------------------


def balance_micro(session: Session, *, account_id: str) -> int:
    """Sum of the account's ledger rows, in micro-credits."""
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_micro), 0)).where(
        LedgerEntry.account_id == account_id
    )
    return int(session.scalar(stmt) or 0)


def _held(account_id: str) -> Any:
    return (
        select(func.coalesce(func.sum(CreditHold.reserved_micro), 0))
        .where(CreditHold.account_id == account_id)
        .scalar_subquery()
    )


def balance_and_held(session: Session, *, account_id: str) -> tuple[int, int]:
    """``(balance_micro, held_micro)`` read in one statement (one snapshot on PostgreSQL).

    What the account can still spend is ``balance - held``; lock the account row first
    (:func:`get_account` with ``for_update``) when the answer decides a reservation.
    """
    balance = (
        select(func.coalesce(func.sum(LedgerEntry.amount_micro), 0))
        .where(LedgerEntry.account_id == account_id)
        .scalar_subquery()
    )
    row = session.execute(select(balance, _held(account_id))).one()
    return int(row[0]), int(row[1])


def audio_ms_total(session: Session, *, account_id: str) -> int:
    stmt = select(func.coalesce(func.sum(LedgerEntry.audio_ms), 0)).where(
        LedgerEntry.account_id == account_id
    )
    return int(session.scalar(stmt) or 0)


def add_ledger_entry(
    session: Session,
    *,
    account_id: str,
    kind: str,
    amount_micro: int,
    audio_ms: int = 0,
    reference: str | None = None,
) -> LedgerEntry:
    entry = LedgerEntry(
        account_id=account_id, kind=kind, amount_micro=amount_micro, audio_ms=audio_ms, reference=reference
    )
    session.add(entry)
    return entry


def ledger_entries(session: Session, *, account_id: str) -> list[LedgerEntry]:
    stmt = select(LedgerEntry).where(LedgerEntry.account_id == account_id).order_by(LedgerEntry.id)
    return list(session.scalars(stmt))


# credit holds ---------------------------------------------------------------------------------


def add_hold(
    session: Session, *, hold_id: str, account_id: str, owner: str, reserved_micro: int, reference: str | None
) -> None:
    now = utcnow()
    session.add(
        CreditHold(
            id=hold_id,
            account_id=account_id,
            owner=owner,
            reserved_micro=reserved_micro,
            delivered_ms=0,
            reference=reference,
            created_at=now,
            updated_at=now,
        )
    )


def get_hold(session: Session, *, hold_id: str) -> CreditHold | None:
    return session.scalar(select(CreditHold).where(CreditHold.id == hold_id))


def record_hold_progress(
    session: Session, *, hold_id: str, delivered_ms: int, reserved_micro: int | None = None
) -> bool:
    """Store the audio delivered so far (and a new reservation); ``False`` if the hold is gone."""
    values: dict[str, Any] = {"delivered_ms": delivered_ms, "updated_at": utcnow()}
    if reserved_micro is not None:
        values["reserved_micro"] = reserved_micro
    result = session.execute(
        update(CreditHold).where(CreditHold.id == hold_id).values(**values),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


def touch_holds(session: Session, *, hold_ids: Collection[str]) -> int:
    """Refresh ``updated_at`` of the holds still running in this process; how many rows changed."""
    if not hold_ids:
        return 0
    result = session.execute(
        update(CreditHold).where(CreditHold.id.in_(list(hold_ids))).values(updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0))


def delete_hold(session: Session, *, hold_id: str) -> bool:
    result = session.execute(
        delete(CreditHold).where(CreditHold.id == hold_id), execution_options={"synchronize_session": False}
    )
    return bool(getattr(result, "rowcount", 0))


def take_hold(
    session: Session, *, hold_id: str, updated_before: datetime | None = None
) -> tuple[str, int, str | None] | None:
    """Delete a hold (only if not refreshed since ``updated_before``, when given) and return its
    ``(account_id, delivered_ms, reference)``, or ``None`` when it is gone or was refreshed.

    The condition is checked on the row's newest version, so a hold its server refreshes at the
    same moment is never taken.
    """
    where = [CreditHold.id == hold_id]
    if updated_before is not None:
        where.append(CreditHold.updated_at < updated_before)
    stmt = (
        delete(CreditHold)
        .where(*where)
        .returning(CreditHold.account_id, CreditHold.delivered_ms, CreditHold.reference)
    )
    row = session.execute(stmt, execution_options={"synchronize_session": False}).first()
    return (str(row[0]), int(row[1]), row[2]) if row else None


def list_holds(session: Session, *, updated_before: datetime | None = None) -> list[CreditHold]:
    """Every hold, or those not refreshed since ``updated_before``."""
    stmt = select(CreditHold)
    if updated_before is not None:
        stmt = stmt.where(CreditHold.updated_at < updated_before)
    return list(session.scalars(stmt.order_by(CreditHold.id)))


# voice clones ---------------------------------------------------------------------------------


def count_clones(session: Session, *, account_id: str) -> int:
    stmt = select(func.count()).select_from(VoiceClone).where(VoiceClone.account_id == account_id)
    return int(session.scalar(stmt) or 0)


def get_clone(session: Session, *, account_id: str, clone_id: str) -> VoiceClone | None:
    """The clone if it belongs to ``account_id`` (other accounts' clones look missing)."""
    stmt = select(VoiceClone).where(VoiceClone.id == clone_id, VoiceClone.account_id == account_id)
    return session.scalar(stmt)


def list_clones(
    session: Session, *, account_id: str, limit: int, before_id: str | None = None
) -> list[VoiceClone]:
    """Newest first (ids are time-ordered ULIDs); ``before_id`` continues a previous page."""
    stmt = select(VoiceClone).where(VoiceClone.account_id == account_id)
    if before_id is not None:
        stmt = stmt.where(VoiceClone.id < before_id)
    return list(session.scalars(stmt.order_by(VoiceClone.id.desc()).limit(limit)))


def mark_similarity_pending(session: Session, *, clone_id: str, check_key: str | None) -> str | None:
    """Clear a clone's self-check score after re-enrollment: ``pending`` with the prepared
    reference in ``check_key``, or ``unavailable`` when ``check_key`` is ``None``.

    Returns the check blob key the row named before (to remove), or ``None``.
    """
    row = session.get(VoiceClone, clone_id)
    if row is None:
        return None
    old = row.check_key
    row.similarity = None
    row.similarity_status = "pending" if check_key else "unavailable"
    row.similarity_claimed_at = None
    row.similarity_attempts = 0
    row.check_key = check_key
    return old if old != check_key else None


@dataclass(frozen=True)
class ClaimedCheck:
    """A pending self-check this process now owns: the clone, its profile and prepared reference
    blob keys, and how many times it was claimed (this claim included)."""

    clone_id: str
    profile_key: str
    check_key: str | None
    attempts: int


def claim_similarity_check(
    session: Session, *, engine: str, stale_before: datetime, limit: int = 5
) -> ClaimedCheck | None:
    """Claim the oldest pending self-check of ``engine`` that nobody holds (never claimed, or
    claimed before ``stale_before`` by a process that died); ``None`` when there is none.

    The claim is one conditional ``UPDATE``: of several processes racing for a row, exactly one
    changes it, on SQLite and PostgreSQL alike. Commit the session to make the claim visible.
    """
    unclaimed = or_(
        VoiceClone.similarity_claimed_at.is_(None), VoiceClone.similarity_claimed_at < stale_before
    )
    candidates = list(
        session.execute(
            select(VoiceClone.id)
            .where(VoiceClone.similarity_status == "pending", VoiceClone.engine == engine, unclaimed)
            .order_by(VoiceClone.id)
            .limit(limit)
        ).scalars()
    )
    for clone_id in candidates:
        result = session.execute(
            update(VoiceClone)
            .where(VoiceClone.id == clone_id, VoiceClone.similarity_status == "pending", unclaimed)
            .values(similarity_claimed_at=utcnow(), similarity_attempts=VoiceClone.similarity_attempts + 1),
            execution_options={"synchronize_session": False},
        )
        if getattr(result, "rowcount", 0) == 1:
            row = session.execute(
                select(VoiceClone.profile_key, VoiceClone.check_key, VoiceClone.similarity_attempts).where(
                    VoiceClone.id == clone_id
                )
            ).one()
            return ClaimedCheck(clone_id, row[0], row[1], int(row[2]))
    return None


def finish_similarity_check(
    session: Session, *, clone_id: str, check_key: str | None, similarity: float | None, status: str
) -> bool:
    """Store a claimed check's outcome (``done``, ``failed`` or ``unavailable``) and forget its
    check blob key; ``False`` when the clone is gone or no longer waits for this check (deleted,
    or re-enrolled meanwhile with a new ``check_key``)."""
    same_check = VoiceClone.check_key.is_(None) if check_key is None else VoiceClone.check_key == check_key
    result = session.execute(
        update(VoiceClone)
        .where(VoiceClone.id == clone_id, VoiceClone.similarity_status == "pending", same_check)
        .values(similarity=similarity, similarity_status=status, similarity_claimed_at=None, check_key=None),
        execution_options={"synchronize_session": False},
    )
    return bool(getattr(result, "rowcount", 0))


def iter_clone_keys(session: Session, *, engine: str) -> list[tuple[str, str, str | None]]:
    """``(clone_id, profile_key, reference_key)`` of every clone made by ``engine``, oldest first."""
    stmt = (
        select(VoiceClone.id, VoiceClone.profile_key, VoiceClone.reference_key)
        .where(VoiceClone.engine == engine)
        .order_by(VoiceClone.id)
    )
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


# idempotency ----------------------------------------------------------------------------------


def get_idempotency(session: Session, *, account_id: str, key: str) -> IdempotencyRecord | None:
    return session.get(IdempotencyRecord, (account_id, key))


def add_idempotency(
    session: Session,
    *,
    account_id: str,
    key: str,
    fingerprint: str,
    status_code: int,
    response: dict[str, object],
) -> None:
    session.add(
        IdempotencyRecord(
            account_id=account_id,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            response=response,
        )
    )


def now() -> datetime:
    return utcnow()
