"""Alembic environment: always runs on the connection handed over by ``voxclone.store.db``."""

from __future__ import annotations

from alembic import context

from voxclone.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise RuntimeError("run migrations through voxclone.store.db.migrate(), which supplies a connection")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
