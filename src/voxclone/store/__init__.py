"""Persistence: SQLAlchemy models, repositories, migrations and blob stores.

SQLite plus a data folder by default; PostgreSQL (metadata *and* blobs) when
``VOXCLONE_DATABASE_URL=postgresql://…`` so stateless servers can share one deployment.
"""

from voxclone.store.blobs import BlobStore, SqlBlobStore
from voxclone.store.db import Database, open_database
from voxclone.store.local_blobs import LocalBlobStore

__all__ = ["BlobStore", "Database", "LocalBlobStore", "SqlBlobStore", "open_database"]
