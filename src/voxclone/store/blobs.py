"""Blob stores for voice profiles and reference audio.

Two real implementations share one small interface: :class:`LocalBlobStore` (files under
``data_dir/blobs``, the embedded default) and :class:`SqlBlobStore` (a ``blobs`` table, used with
PostgreSQL so that every server process sees the same blobs).
"""

from __future__ import annotations

import os
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from voxclone.errors import NotFound
from voxclone.store.models import Blob

_KEY = re.compile(r"^[a-z0-9_]+(/[a-z0-9_.]+)*$")


def _check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"invalid blob key {key!r}")
    return key


class BlobStore(ABC):
    """Key → bytes storage. Keys are ``/``-separated lowercase paths such as ``vc_…/profile``."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing any previous value) durably."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """Bytes under ``key``; raises ``NotFound`` (code ``blob_not_found``) when absent."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""


class LocalBlobStore(BlobStore):
    """Files under ``root``; writes go to a temporary file that is renamed into place (atomic)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"blob {key!r} is missing", code="blob_not_found") from e

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        parent = path.parent
        if parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class SqlBlobStore(BlobStore):
    """Rows of the ``blobs`` table, so stateless servers on several machines share them."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions

    def put(self, key: str, data: bytes) -> None:
        _check_key(key)
        with self._sessions.begin() as session:
            session.merge(Blob(key=key, data=data))

    def get(self, key: str) -> bytes:
        with self._sessions() as session:
            data = session.scalar(select(Blob.data).where(Blob.key == _check_key(key)))
        if data is None:
            raise NotFound(f"blob {key!r} is missing", code="blob_not_found")
        return bytes(data)

    def delete(self, key: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(Blob).where(Blob.key == _check_key(key)))

    def exists(self, key: str) -> bool:
        with self._sessions() as session:
            return session.scalar(select(Blob.key).where(Blob.key == _check_key(key))) is not None
