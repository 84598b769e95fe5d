"""Clone creation and deletion survive kill -9 at every step: whole clone or nothing, no orphans.

Each case runs ``tests/support/crash_clone.py`` in a subprocess that SIGKILLs itself at one step
(a folder made, a file written or renamed, rows flushed, a transaction committed), then opens the
same data dir / database again through ``Services.build`` (which sweeps leftovers) and checks that
the clone either exists whole — row, charge, profile and reference readable — or not at all, and
that no blob file, blob row, pending marker or empty folder is left behind. A clone created with a
spoken consent is whole with its evidence row, its consent recording and its spent challenge, and
none of them is left without the clone.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import crash_clone
import pytest
from sqlalchemy import select

from voxclone.service.container import Services
from voxclone.store.models import Account, Blob, ConsentChallenge, ConsentRecord, LedgerEntry, VoiceClone
from voxclone.voices.profile import VoiceProfile

SCRIPT = Path(crash_clone.__file__)
SRC = Path(__file__).resolve().parents[2] / "src"
LOCAL_CREATE_STEPS = ["mkdir:1", "fsync:1", "replace:1", "replace:2", "flush:1", "commit:1"]
LOCAL_DELETE_STEPS = ["commit:1", "unlink:1"]
SQL_CREATE_STEPS = ["flush:1", "commit:1"]
SQL_DELETE_STEPS = ["commit:1"]
# with a spoken consent, the consent recording is written after the clone row was flushed
LOCAL_CONSENT_CREATE_STEPS = [*LOCAL_CREATE_STEPS[:-1], "replace:3", "flush:2", "commit:1"]
LOCAL_CONSENT_DELETE_STEPS = ["commit:1", "unlink:1", "unlink:3"]
SQL_CONSENT_CREATE_STEPS = ["flush:1", "flush:2", "commit:1"]


@pytest.fixture
def database_url(db_backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite; else a fresh PostgreSQL database for this test only (dropped after)."""
    if db_backend == "sqlite":
        yield None
        return
    import psycopg

    request.getfixturevalue("postgres_url")  # skips (or fails in CI) like the rest when PG is absent
    admin_url = os.environ.get("VOXCLONE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"voxclone_crash_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{admin_url.rpartition('/')[0]}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(
    data_dir: Path, database_url: str | None, *, account: str, action: str, kill_at: str, consent: bool
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(SCRIPT), "--data-dir", str(data_dir), "--account", account]
    cmd += ["--action", action, "--kill-at", kill_at] + (["--consent"] if consent else [])
    if database_url:
        cmd += ["--database-url", database_url]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(SCRIPT.parent)])}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)


def _reopen_and_check(
    data_dir: Path, database_url: str | None, *, account: str, action: str, consent: bool
) -> int:
    """Open the data again (start-up sweep included), check whole-or-nothing; return the clone count."""
    services = Services.build(
        settings=crash_clone.settings(str(data_dir), database_url), engine=crash_clone.TinyEngine()
    )
    try:
        with services.db.sessions() as session:
            account_id = session.scalar(select(Account.id).where(Account.name == account))
            assert account_id is not None
            rows = list(session.scalars(select(VoiceClone).where(VoiceClone.account_id == account_id)))
            all_rows = list(session.scalars(select(VoiceClone)))
            ledger = select(LedgerEntry).where(LedgerEntry.account_id == account_id)
            kinds = [e.kind for e in session.scalars(ledger)]
            blob_rows = set(session.scalars(select(Blob.key)))
            records = {r.clone_id: r for r in session.scalars(select(ConsentRecord))}
            mine = select(ConsentChallenge).where(ConsentChallenge.account_id == account_id)
            challenges = [(c.used_at is not None, c.clone_id) for c in session.scalars(mine)]
        referenced = {k for r in all_rows for k in (r.profile_key, r.reference_key) if k}
        referenced |= {r.audio_key for r in records.values() if r.audio_key}
        assert set(records) <= {r.id for r in all_rows}, "consent evidence without its clone"
        assert len(rows) <= 1
        if action == "create":
            assert kinds.count("clone") == len(rows), f"{kinds} for {len(rows)} clone(s)"
        for row in rows:
            assert row.reference_key is not None
            assert services.db.blobs.get(row.reference_key) == crash_clone.REFERENCE_AUDIO
            stored = VoiceProfile.from_bytes(services.db.blobs.get(row.profile_key))
            assert stored.engine == "tiny" and stored.tensors["freq"].tolist() == [123.0]
            if consent:
                record = records.get(row.id)
                assert record is not None and record.audio_key == f"{row.id}/consent", "evidence lost"
                assert services.db.blobs.get(record.audio_key) == crash_clone.CONSENT_AUDIO
                assert challenges == [(True, row.id)], f"challenge not spent by the clone: {challenges}"
        if consent and not rows:
            # nothing created: the challenge is unspent (or, the clone deleted, gone with it)
            assert challenges == ([(False, None)] if action == "create" else []), challenges
        if services.db.is_sqlite:
            root = data_dir / "blobs"
            files = {p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir()}
            assert files == referenced, f"orphan or missing blob files: {files ^ referenced}"
            empty = [p for p in root.rglob("*") if p.is_dir() and not any(p.iterdir())]
            assert not empty, f"empty folders left: {empty}"
            assert not blob_rows
        else:
            assert blob_rows == referenced, f"orphan or missing blob rows: {blob_rows ^ referenced}"
    finally:
        services.close()
    return len(rows)


def _steps(db_backend: str, action: str, consent: bool) -> list[str]:
    if db_backend == "sqlite" and consent:
        return LOCAL_CONSENT_CREATE_STEPS if action == "create" else LOCAL_CONSENT_DELETE_STEPS
    if db_backend == "sqlite":
        return LOCAL_CREATE_STEPS if action == "create" else LOCAL_DELETE_STEPS
    if consent and action == "create":
        return SQL_CONSENT_CREATE_STEPS
    return SQL_CREATE_STEPS if action == "create" else SQL_DELETE_STEPS


@pytest.mark.parametrize("consent", [False, True], ids=["plain", "consent"])
@pytest.mark.parametrize("action", ["create", "delete"])
def test_kill_at_every_step_leaves_whole_clone_or_nothing(
    tmp_path: Path, db_backend: str, database_url: str | None, action: str, consent: bool
) -> None:
    failures = []
    for step in _steps(db_backend, action, consent):
        account = f"crash-{action}-{step.replace(':', '-')}"
        data_dir = tmp_path / account
        done = _run(data_dir, database_url, account=account, action=action, kill_at=step, consent=consent)
        assert done.returncode == -signal.SIGKILL, (step, done.returncode, done.stdout, done.stderr)
        try:
            count = _reopen_and_check(
                data_dir, database_url, account=account, action=action, consent=consent
            )
        except AssertionError as e:
            failures.append(f"{step}: {e}")
            continue
        if step == "commit:1":
            # killed right after its transaction committed: created means whole, deleted means gone
            expected = 1 if action == "create" else 0
            if count != expected:
                failures.append(f"{step}: {count} clone(s), expected {expected}")
    assert not failures, "\n".join(failures)
