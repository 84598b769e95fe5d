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
from sqlalchemy import delete, update

from voxclone.settings import Settings
from voxclone.store.db import open_database
from voxclone.store.ids import new_id
from voxclone.store.local_blobs import LocalBlobStore
from voxclone.store.models import Account, Blob, ConsentRecord, VoiceClone, utcnow
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


def test_sweep_keeps_the_consent_recording_of_a_clone(make_settings: Callable[..., Settings]) -> None:
    """The consent evidence's recording is referenced by its evidence row, not the clone row."""
    db = open_database(make_settings())
    account, clone = new_id("acct"), new_id("vc")
    keys = [f"{clone}/profile", f"{clone}/consent"]
    try:
        with db.blobs.transaction(group=clone) as blobs, db.write_sessions.begin() as session:
            for key in keys:
                blobs.put(key, b"kept")
            session.add(Account(id=account, name=f"sweep-{account}"))
            session.flush()
            session.add(
                VoiceClone(
                    id=clone, account_id=account, name="c", engine="tiny", duration_s=1.0,
                    quality={}, profile_key=keys[0], reference_key=None,
                )
            )  # fmt: skip
            session.flush()
            session.add(
                ConsentRecord(
                    clone_id=clone, account_id=account, challenge_id=new_id("cc"), language="en",
                    phrase="p", transcript="p", word_score=1.0, speaker_score=0.9,
                    speaker_threshold=0.7, source="consent_audio", audio_sha256="0" * 64,
                    audio_key=keys[1],
                )
            )  # fmt: skip
            blobs.join(session)
        # written long ago, so that only a reference can spare them
        if isinstance(db.blobs, LocalBlobStore):
            stamp = time.time() - LEGACY_GRACE_S - 60
            for path in (*(db.blobs.root / key for key in keys), db.blobs.root / clone):
                os.utime(path, (stamp, stamp))
        else:
            with db.write_sessions.begin() as session:
                long_ago = utcnow() - timedelta(seconds=LEGACY_GRACE_S + 60)
                session.execute(update(Blob).where(Blob.key.in_(keys)).values(created_at=long_ago))
        assert sweep_orphan_blobs(db) == 0
        assert [db.blobs.get(key) for key in keys] == [b"kept", b"kept"]
    finally:
        with db.write_sessions.begin() as session:
            session.execute(delete(ConsentRecord).where(ConsentRecord.clone_id == clone))
            session.execute(delete(VoiceClone).where(VoiceClone.id == clone))
            session.execute(delete(Account).where(Account.id == account))
            session.execute(delete(Blob).where(Blob.key.in_(keys)))
        db.close()
