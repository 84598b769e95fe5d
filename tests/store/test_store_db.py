"""Store: migrations, blob stores and exact ledger sums on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select

from voxclone.errors import InvalidRequest, NotFound
from voxclone.service.accounts import AccountService
from voxclone.service.money import format_credits, speech_cost_micro, to_micro
from voxclone.settings import Settings
from voxclone.store import repositories as repo
from voxclone.store.db import current_revision, migrate, open_database
from voxclone.store.ids import is_ulid_id, new_id
from voxclone.store.models import VoiceClone

TABLES = {
    "accounts",
    "api_keys",
    "ledger_entries",
    "voice_clones",
    "idempotency_keys",
    "blobs",
    "credit_holds",
    "consent_challenges",
    "consent_records",
    "consent_policies",
}


def test_migrations_create_and_upgrade_existing_database(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    db = open_database(settings)
    assert current_revision(db.engine) == "0004"
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    accounts = AccountService(db=db, settings=settings)
    ref, _ = accounts.create_key(account=f"keep-{new_id('t')}", credits="1.5")
    db.close()
    # a second start (another server process) upgrades in place and keeps the data
    db = open_database(settings)
    migrate(db.engine)
    assert AccountService(db=db, settings=settings).summary(account_id=ref.id).balance == "1.500000"
    db.close()


def test_downgrade_then_upgrade(tmp_path: object) -> None:
    from alembic import command
    from alembic.config import Config

    from voxclone.store.db import MIGRATIONS_DIR

    settings = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    db = open_database(settings)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    migrate(db.engine)
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    db.close()


def test_upgrade_from_0001_adds_credit_holds_and_keeps_the_ledger(tmp_path: object) -> None:
    from alembic import command
    from alembic.config import Config

    from voxclone.store.db import MIGRATIONS_DIR

    settings = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    db = open_database(settings)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert "credit_holds" not in inspect(db.engine).get_table_names()
    ref, _ = AccountService(db=db, settings=settings).create_key(credits="2")  # a 0001 database
    migrate(db.engine)
    assert current_revision(db.engine) == "0004"
    summary = AccountService(db=db, settings=settings).summary(account_id=ref.id)
    assert (summary.balance, summary.held, summary.available) == ("2.000000", "0.000000", "2.000000")
    db.close()


def test_blob_store_roundtrip_and_delete(make_settings: Callable[..., Settings]) -> None:
    db = open_database(make_settings())
    key = f"{new_id('vc')}/profile"
    assert not db.blobs.exists(key)
    db.blobs.put(key, b"\x00\x01payload")
    db.blobs.put(key, b"\x00\x01payload2")
    assert db.blobs.get(key) == b"\x00\x01payload2"
    db.blobs.delete(key)
    db.blobs.delete(key)
    assert not db.blobs.exists(key)
    with pytest.raises(NotFound):
        db.blobs.get(key)
    with pytest.raises(ValueError, match="invalid blob key"):
        db.blobs.put("../escape", b"x")
    db.close()


def test_ledger_sum_is_exact(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    db = open_database(settings)
    accounts = AccountService(db=db, settings=settings)
    ref, key = accounts.create_key(credits="0.3")
    for _ in range(10):
        accounts.add_credits(account=ref.id, credits="0.1")
    assert accounts.add_credits(account=ref.name, credits="-0.000001") == "1.299999"
    with db.sessions() as session:
        entries = repo.ledger_entries(session, account_id=ref.id)
        assert (
            sum(e.amount_micro for e in entries)
            == repo.balance_micro(session, account_id=ref.id)
            == 1_299_999
        )
    assert accounts.authenticate(key) == ref
    db.close()


def test_money_helpers() -> None:
    assert to_micro(Decimal("0.025")) == 25_000
    assert to_micro("10") == 10_000_000
    assert format_credits(1_299_999) == "1.299999"
    assert speech_cost_micro(audio_ms=2345, cost_per_second=Decimal("0.001")) == 2345
    for bad in ("0.0000001", "abc", "NaN", "inf"):
        with pytest.raises(InvalidRequest):
            to_micro(bad)


def test_ids_are_lowercase_ulids_in_creation_order() -> None:
    ids = [new_id("vc") for _ in range(200)]
    assert all(is_ulid_id(i, "vc") and i == i.lower() and len(i) == 29 for i in ids)
    assert ids == sorted(ids)
    assert not is_ulid_id("vc_short", "vc")


def test_upgrade_to_0003_marks_existing_clones_done_or_unavailable(tmp_path: object) -> None:
    """Clones made before deferred self-checks: a stored score is ``done``; none (an engine without
    a self-check) is ``unavailable``; none is left ``pending`` with nothing to check."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from voxclone.store.db import MIGRATIONS_DIR

    settings = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    db = open_database(settings)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    ref, _ = AccountService(db=db, settings=settings).create_key(credits="1")
    scored, unscored = new_id("vc"), new_id("vc")
    with db.engine.begin() as conn:
        for clone_id, similarity in ((scored, 0.71), (unscored, None)):
            conn.execute(
                text(
                    "INSERT INTO voice_clones (id, account_id, name, engine, created_at, duration_s, "
                    "quality, similarity, profile_key, reference_key) VALUES (:id, :acct, 'old', 'kokoro', "
                    "CURRENT_TIMESTAMP, 5.0, '{}', :sim, :key, NULL)"
                ),
                {"id": clone_id, "acct": ref.id, "sim": similarity, "key": f"{clone_id}/profile"},
            )
    migrate(db.engine)
    assert current_revision(db.engine) == "0004"
    with db.sessions() as session:
        rows = {r.id: r for r in session.scalars(select(VoiceClone))}
    assert (rows[scored].similarity_status, rows[scored].similarity) == ("done", 0.71)
    assert (rows[unscored].similarity_status, rows[unscored].similarity) == ("unavailable", None)
    assert rows[scored].check_key is None and rows[scored].similarity_attempts == 0
    db.close()
