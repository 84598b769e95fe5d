"""Alembic migrations shipped in the package; run programmatically by :mod:`voxclone.store.db`."""
