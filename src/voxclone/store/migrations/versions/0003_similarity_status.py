"""Deferred self-check: a clone's similarity is computed after it is stored.

``similarity_status`` is ``pending`` (to compute), ``done``, ``failed`` or ``unavailable`` (the
engine has no calibrated measure). ``check_key`` names the blob holding the prepared reference the
check needs (removed once done); ``similarity_claimed_at`` and ``similarity_attempts`` let any
server process claim a pending check atomically and take over one whose claimer died.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voxclone.store.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voice_clones") as batch:
        batch.add_column(sa.Column("similarity_status", sa.String(16), nullable=False, server_default="done"))
        batch.add_column(sa.Column("similarity_claimed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("similarity_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("check_key", sa.String(120), nullable=True))
    # clones made before: a score is "done"; none means the engine had no measure
    op.execute("UPDATE voice_clones SET similarity_status = 'unavailable' WHERE similarity IS NULL")
    op.create_index("ix_voice_clones_similarity_status", "voice_clones", ["similarity_status"])


def downgrade() -> None:
    op.drop_index("ix_voice_clones_similarity_status", table_name="voice_clones")
    with op.batch_alter_table("voice_clones") as batch:
        batch.drop_column("check_key")
        batch.drop_column("similarity_attempts")
        batch.drop_column("similarity_claimed_at")
        batch.drop_column("similarity_status")
