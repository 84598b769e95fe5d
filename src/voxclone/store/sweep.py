"""Start-up sweep: remove blobs that no voice clone refers to (left by a crash or an older version).

Run by :meth:`voxclone.service.container.Services.build` after migrations. Safe while other server
processes share the data dir or database: it never touches a change still in progress (see
:mod:`voxclone.store.local_blobs` for files and :class:`~voxclone.store.blobs.SqlBlobStore`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from voxclone.store.blobs import SqlBlobStore
from voxclone.store.db import Database
from voxclone.store.local_blobs import LocalBlobStore
from voxclone.store.models import ConsentRecord, VoiceClone

LEGACY_GRACE_S = 600.0


def sweep_orphan_blobs(db: Database, *, grace_s: float = LEGACY_GRACE_S) -> int:
    """Remove orphan blobs (and empty clone folders); return the number of blobs removed.

    Parameters
    ----------
    db : Database
        An open, migrated database and its blob store.
    grace_s : float
        Blobs without a pending marker (written by an older version, which committed blobs
        before their row) are removed only when older than this many seconds.
    """
    if isinstance(db.blobs, LocalBlobStore):
        return db.blobs.sweep(referenced=lambda groups: _referenced_keys(db, groups), grace_s=grace_s)
    if isinstance(db.blobs, SqlBlobStore):
        return db.blobs.sweep(grace_s=grace_s)
    return 0


def _referenced_keys(db: Database, clone_ids: Sequence[str]) -> set[str]:
    """The blob keys that the clones with these ids, and their consent evidence, refer to (ids
    without a row refer to none)."""
    stmt = select(VoiceClone.profile_key, VoiceClone.reference_key, VoiceClone.check_key).where(
        VoiceClone.id.in_(clone_ids)
    )
    consents = select(ConsentRecord.audio_key).where(ConsentRecord.clone_id.in_(clone_ids))
    with db.sessions() as session:
        keys = {key for row in session.execute(stmt) for key in row if key}
        return keys | {key for key in session.scalars(consents) if key}
