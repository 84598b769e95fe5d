"""The start-up sweep removes orphans but never a change another process is making right now."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from voxclone.settings import Settings
from voxclone.store.db import open_database
from voxclone.store.ids import new_id
from voxclone.store.local_blobs import LocalBlobStore
from voxclone.store.models import Blob, utcnow
from voxclone.store.sweep import LEGACY_GRACE_S, sweep_orphan_blobs

SRC = Path(__file__).resolve().parents[2] / "src"

SWEEP_IN_ANOTHER_PROCESS = """
import sys
from voxclone.settings import Settings
from voxclone.store.db import open_database
from voxclone.store.sweep import sweep_orphan_blobs
db = open_database(Settings(data_dir=sys.argv[1]))
print(sweep_orphan_blobs(db))
db.close()
"""


def _sweep_elsewhere(data_dir: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", SWEEP_IN_ANOTHER_PROCESS, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        check=True,
    )
    return int(done.stdout.strip())


def test_sweep_spares_a_change_in_progress_in_another_process(tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path))
    assert isinstance(db.blobs, LocalBlobStore)
    group = new_id("vc")
    crashed = new_id("vc")
    (tmp_path / "blobs" / crashed).mkdir()
    (tmp_path / "blobs" / crashed / "profile").write_bytes(b"left by a crash")
    (tmp_path / "blobs" / f"{crashed}.pending").touch()
    with pytest.raises(RuntimeError, match="rolled back"), db.blobs.transaction(group=group) as tx:
        tx.put(f"{group}/profile", b"being committed")
        # no clone row yet: another process's sweep must leave it, but take the crashed one
        assert _sweep_elsewhere(tmp_path) == 1
        assert db.blobs.get(f"{group}/profile") == b"being committed"
        assert not (tmp_path / "blobs" / crashed).exists()
        raise RuntimeError("rolled back")
    assert sorted(p.name for p in (tmp_path / "blobs").iterdir()) == []
    db.close()


def test_sweep_removes_old_unmarked_orphans_and_spares_fresh_ones(
    make_settings: Callable[..., Settings],
) -> None:
    """Blobs of an older version (no pending marker) go only once older than the grace period."""
    db = open_database(make_settings())
    old, fresh = f"{new_id('vc')}/profile", f"{new_id('vc')}/profile"
    try:
        if isinstance(db.blobs, LocalBlobStore):
            for key in (old, fresh):
                db.blobs.put(key, b"orphan")
            stamp = time.time() - LEGACY_GRACE_S - 60
            for path in (db.blobs.root / old, (db.blobs.root / old).parent):
                os.utime(path, (stamp, stamp))
            empty = db.blobs.root / new_id("vc")
            empty.mkdir()
            os.utime(empty, (stamp, stamp))
        else:
            long_ago = utcnow() - timedelta(seconds=LEGACY_GRACE_S + 60)
            with db.write_sessions.begin() as session:
                session.add(Blob(key=old, data=b"orphan", created_at=long_ago))
                session.add(Blob(key=fresh, data=b"orphan"))
        assert sweep_orphan_blobs(db) == 1
        assert not db.blobs.exists(old) and db.blobs.exists(fresh)
        if isinstance(db.blobs, LocalBlobStore):
            assert not empty.exists() and not (db.blobs.root / old).parent.exists()
    finally:
        if not isinstance(db.blobs, LocalBlobStore):
            with db.write_sessions.begin() as session:
                session.execute(delete(Blob).where(Blob.key.in_([old, fresh])))
        db.close()


def test_blob_transaction_must_join_the_database_transaction(make_settings: Callable[..., Settings]) -> None:
    db = open_database(make_settings())
    group = new_id("vc")
    with pytest.raises(RuntimeError, match="never joined"), db.blobs.transaction(group=group) as tx:
        tx.put(f"{group}/profile", b"x")
    assert not db.blobs.exists(f"{group}/profile")
    with pytest.raises(ValueError, match="outside the group"), db.blobs.transaction(group=group) as tx:
        tx.put(f"{new_id('vc')}/profile", b"x")
    db.close()
