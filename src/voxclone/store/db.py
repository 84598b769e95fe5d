"""Database connection, sessions and start-up migrations.

SQLite (``data_dir/voxclone.db``) is the default; ``database_url`` selects PostgreSQL. SQLite runs
in WAL mode and write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue
instead of failing; on PostgreSQL, writers lock the account row (``SELECT … FOR UPDATE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.orm import Session, sessionmaker

from voxclone.settings import Settings
from voxclone.store.blobs import BlobStore, SqlBlobStore
from voxclone.store.local_blobs import LocalBlobStore

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_ID = 7_242_001


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` / ``postgres://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+pysqlite:///{(Path(data_dir) / 'voxclone.db').resolve()}"


@dataclass
class Database:
    """An open database: engine, read and write session factories, and the matching blob store."""

    engine: Engine
    sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    blobs: BlobStore

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa_create_engine(
            url, connect_args={"check_same_thread": False, "isolation_level": None, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Writers take the write lock up front; readers run each statement on its own
            # (autocommit), which saves two round trips on the hot read paths.
            if conn.get_execution_options().get("sqlite_immediate", False):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa_create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (safe to run from several processes at once)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.execution_options(sqlite_immediate=True).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database (``None`` before the first migration)."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        rev = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return rev


def open_database(settings: Settings, *, run_migrations: bool = True) -> Database:
    """Connect to the configured database, migrate it, and pick the blob store that goes with it."""
    if settings.database_url:
        url = normalize_url(settings.database_url)
    else:
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        url = sqlite_url(settings.data_dir)
    engine = _make_engine(url)
    if run_migrations:
        migrate(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    write_sessions = sessionmaker(engine.execution_options(sqlite_immediate=True), expire_on_commit=False)
    blobs: BlobStore
    if engine.dialect.name == "sqlite":
        blobs = LocalBlobStore(Path(settings.data_dir) / "blobs")
    else:
        blobs = SqlBlobStore(write_sessions)
    return Database(engine=engine, sessions=sessions, write_sessions=write_sessions, blobs=blobs)
