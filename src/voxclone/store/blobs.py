"""Blob stores for voice profiles and reference audio.

Two real implementations share one small interface: :class:`~voxclone.store.local_blobs.LocalBlobStore`
(files under ``data_dir/blobs``, the embedded default) and :class:`SqlBlobStore` (a ``blobs`` table,
used with PostgreSQL so that every server process sees the same blobs).

Blobs that a database row refers to are written and removed through :meth:`BlobStore.transaction`,
which ties them to that row's database transaction: on PostgreSQL the blob rows are part of the same
transaction; with local files the change is announced by a locked pending marker until the database
has committed, so a process killed at any point leaves nothing the start-up sweep
(:func:`voxclone.store.sweep.sweep_orphan_blobs`) cannot tell apart and remove.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from voxclone.errors import NotFound
from voxclone.store.models import Blob, ConsentRecord, VoiceClone, utcnow

_KEY = re.compile(r"^[a-z0-9_]+(/[a-z0-9_.]+)*$")
GROUP = re.compile(r"^[a-z0-9_]+$")


def check_key(key: str) -> str:
    """``key`` if it is a valid blob key (lowercase ``/``-separated path), else ``ValueError``."""
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"invalid blob key {key!r}")
    return key


def check_group(group: str) -> str:
    """``group`` if it is a valid first key segment (such as a clone id), else ``ValueError``."""
    if not GROUP.match(group):
        raise ValueError(f"invalid blob group {group!r}")
    return group


class BlobTransaction:
    """Changes to the blobs of one group (keys ``<group>/…``) that commit with a database transaction.

    Call :meth:`put` and :meth:`delete`, then :meth:`join` with the open database session before it
    commits. See :meth:`BlobStore.transaction` for the rules.
    """

    def __init__(self, group: str):
        self.group = group
        self.puts: dict[str, bytes] = {}
        self.deletes: list[str] = []
        self.joined = False

    def _own(self, key: str) -> str:
        if not check_key(key).startswith(f"{self.group}/"):
            raise ValueError(f"blob {key!r} is outside the group {self.group!r}")
        return key

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` once the transaction commits."""
        self.puts[self._own(key)] = data

    def delete(self, key: str) -> None:
        """Remove ``key`` once the transaction commits (a missing key is not an error)."""
        self.deletes.append(self._own(key))

    def join(self, session: Session) -> None:
        """Make the changes part of ``session``'s transaction (call before it commits)."""
        self.joined = True

    def check_joined(self) -> None:
        if (self.puts or self.deletes) and not self.joined:
            raise RuntimeError("blob changes were never joined to a database transaction")


class BlobStore(ABC):
    """Key → bytes storage. Keys are ``/``-separated lowercase paths such as ``vc_…/profile``."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing any previous value) durably, on its own.

        Not tied to any database row: blobs a row refers to go through :meth:`transaction`.
        """

    @abstractmethod
    def get(self, key: str) -> bytes:
        """Bytes under ``key``; raises ``NotFound`` (code ``blob_not_found``) when absent."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    @abstractmethod
    def transaction(self, *, group: str) -> AbstractContextManager[BlobTransaction]:
        """Change the blobs of ``group`` together with one database transaction.

        Usage: ``with store.transaction(group=clone_id) as tx:`` put/delete keys under ``group/``,
        then open the database transaction, write its rows, call ``tx.join(session)`` and let it
        commit as the **last** thing in the block. Leaving the block with an exception undoes the
        blob writes; deletions take effect only after the block ends normally. A process killed
        anywhere inside leaves either the committed state or leftovers the start-up sweep removes.
        """


class SqlBlobStore(BlobStore):
    """Rows of the ``blobs`` table, so stateless servers on several machines share them.

    Transactions add and remove blob rows in the caller's database transaction, so blobs and the
    row that refers to them commit (or vanish) together.
    """

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def put(self, key: str, data: bytes) -> None:
        check_key(key)
        with self._sessions.begin() as session:
            session.merge(Blob(key=key, data=data))

    def get(self, key: str) -> bytes:
        with self._sessions() as session:
            data = session.scalar(select(Blob.data).where(Blob.key == check_key(key)))
        if data is None:
            raise NotFound(f"blob {key!r} is missing", code="blob_not_found")
        return bytes(data)

    def delete(self, key: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(Blob).where(Blob.key == check_key(key)))

    def exists(self, key: str) -> bool:
        with self._sessions() as session:
            return session.scalar(select(Blob.key).where(Blob.key == check_key(key))) is not None

    @contextmanager
    def transaction(self, *, group: str) -> Iterator[BlobTransaction]:
        tx = _SqlTransaction(check_group(group))
        yield tx
        tx.check_joined()

    def sweep(self, *, grace_s: float) -> int:
        """Delete blob rows that no clone (or its consent evidence) refers to and older than
        ``grace_s`` seconds; return how many.

        Blobs written by :meth:`transaction` commit with their clone row, so they are never
        orphans; the grace spares blobs that an older server version commits before its row.
        """
        cutoff = utcnow() - timedelta(seconds=grace_s)
        profiles = select(VoiceClone.profile_key)
        references = select(VoiceClone.reference_key).where(VoiceClone.reference_key.is_not(None))
        checks = select(VoiceClone.check_key).where(VoiceClone.check_key.is_not(None))
        consents = select(ConsentRecord.audio_key).where(ConsentRecord.audio_key.is_not(None))
        stmt = delete(Blob).where(
            Blob.created_at < cutoff,
            Blob.key.not_in(profiles),
            Blob.key.not_in(references),
            Blob.key.not_in(checks),
            Blob.key.not_in(consents),  # a clone's consent recording: named by its evidence row
        )
        with self._sessions.begin() as session:
            result = session.execute(stmt.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)


class _SqlTransaction(BlobTransaction):
    def join(self, session: Session) -> None:
        if self.deletes:
            session.execute(
                delete(Blob).where(Blob.key.in_(self.deletes)).execution_options(synchronize_session=False)
            )
        for key, data in self.puts.items():
            session.merge(Blob(key=key, data=data))
        super().join(session)
