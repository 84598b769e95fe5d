"""Blob files under ``data_dir/blobs``, crash-consistent with the database and safe to share.

Layout: ``blobs/<group>/<name>``, one group per clone (``vc_…/profile``, ``vc_…/reference``).

A change to a group's files that a database row depends on runs inside
:meth:`LocalBlobStore.transaction`. It first creates and locks (POSIX ``flock``) a *pending marker*,
the file ``blobs/<group>.pending``, writes the files (each under a temporary name, fsynced, then
renamed into place), lets the caller commit its database transaction, and only then removes the
files to delete and the marker. The kernel drops the lock when its process dies, even by SIGKILL.
So, for the start-up :meth:`LocalBlobStore.sweep`:

- a marker nobody holds locked belongs to a change whose process died: the sweep takes the lock,
  keeps the files the database refers to, removes the others, then an empty folder and the marker;
- a locked marker belongs to a change in progress in another process sharing the data dir: the
  sweep leaves that group alone;
- files no row refers to and without a marker were left by an older version (or a power loss)
  and are removed once older than the grace period, under the same lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from voxclone.errors import NotFound
from voxclone.store.blobs import GROUP, BlobStore, BlobTransaction, check_group, check_key

MARKER_SUFFIX = ".pending"
TEMP_PREFIX = ".tmp-"
_BATCH = 500


class _Lock:
    """An ``flock``-ed pending marker; :meth:`release` removes it (or keeps it for the sweep)."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self.fd = fd

    def release(self, *, remove_marker: bool) -> None:
        try:
            if remove_marker:
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)


def _lock(path: Path, *, wait: bool) -> _Lock | None:
    """Lock the marker at ``path`` (created if absent); ``None`` if ``wait`` is false and it is held.

    After locking, the file must still be the one at ``path`` (a holder removes the marker before
    unlocking); otherwise the lock is on a removed file and we try again.
    """
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and os.path.samestat(os.fstat(fd), current):
            return _Lock(path, fd)
        os.close(fd)


class LocalBlobStore(BlobStore):
    """Files under ``root``; every write goes to a temporary file that is renamed into place."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _marker(self, group: str) -> Path:
        return self.root / f"{check_group(group)}{MARKER_SUFFIX}"

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"blob {key!r} is missing", code="blob_not_found") from e

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        if path.parent != self.root:
            self._remove_if_empty(path.parent)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    @contextmanager
    def transaction(self, *, group: str) -> Iterator[BlobTransaction]:
        lock = _lock(self._marker(group), wait=True)
        assert lock is not None  # a waiting lock always returns one
        tx = _LocalTransaction(self, group)
        clean = False
        try:
            try:
                yield tx
                tx.check_joined()
            except BaseException:
                for key in tx.written:
                    self._path(key).unlink(missing_ok=True)
                self._remove_if_empty(self.root / group)
                clean = True
                raise
            for key in tx.deletes:
                self._path(key).unlink(missing_ok=True)
            self._remove_if_empty(self.root / group)
            clean = True
        finally:
            # a change that could not be finished or undone keeps its marker for the sweep
            lock.release(remove_marker=clean)

    def sweep(self, *, referenced: Callable[[Sequence[str]], set[str]], grace_s: float) -> int:
        """Remove files no database row refers to, then empty folders; return the files removed.

        Parameters
        ----------
        referenced : callable
            Given group names (clone ids), the keys that database rows of those groups refer to.
        grace_s : float
            Files without a pending marker are removed only when older than this (seconds); a
            change by this version always has a marker, an older version's may not.
        """
        markers: set[str] = set()
        folders: set[str] = set()
        with os.scandir(self.root) as entries:
            for entry in entries:
                stem = entry.name.removesuffix(MARKER_SUFFIX)
                if entry.name.endswith(MARKER_SUFFIX) and GROUP.match(stem):
                    markers.add(stem)
                elif GROUP.match(entry.name) and entry.is_dir(follow_symlinks=False):
                    folders.add(entry.name)
        groups = sorted(folders | markers)
        live: set[str] = set()
        for start in range(0, len(groups), _BATCH):
            live |= referenced(groups[start : start + _BATCH])
        cutoff = time.time() - grace_s
        removed = 0
        for group in groups:
            names = self._names(group)
            if group not in markers:
                if names and all(f"{group}/{n}" in live for n in names):
                    continue  # a healthy clone
                if self._newest_mtime(group) > cutoff:
                    continue  # maybe an older version's change in progress
            removed += self._sweep_group(group, referenced)
        return removed

    def _sweep_group(self, group: str, referenced: Callable[[Sequence[str]], set[str]]) -> int:
        lock = _lock(self._marker(group), wait=False)
        if lock is None:
            return 0  # another process is changing this group right now
        clean = False
        try:
            live = referenced([group])  # checked again under the lock
            removed = 0
            for name in self._names(group):
                if f"{group}/{name}" not in live:
                    (self.root / group / name).unlink(missing_ok=True)
                    removed += 1
            self._remove_if_empty(self.root / group)
            clean = True
            return removed
        finally:
            lock.release(remove_marker=clean)

    def _names(self, group: str) -> list[str]:
        folder = self.root / group
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def _newest_mtime(self, group: str) -> float:
        folder = self.root / group
        stamps = [folder.stat().st_mtime] if folder.is_dir() else []
        stamps += [(folder / n).stat().st_mtime for n in self._names(group)]
        return max(stamps, default=0.0)

    def _remove_if_empty(self, folder: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            if not any(folder.iterdir()):
                folder.rmdir()


class _LocalTransaction(BlobTransaction):
    """Writes go to disk at once (under the group's lock); deletions wait for the commit."""

    def __init__(self, store: LocalBlobStore, group: str):
        super().__init__(group)
        self._store = store
        self.written: list[str] = []

    def put(self, key: str, data: bytes) -> None:
        super().put(key, data)
        self.written.append(key)
        self._store.put(key, data)


def _fsync_dir(folder: Path) -> None:
    """Make a rename or new entry in ``folder`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
