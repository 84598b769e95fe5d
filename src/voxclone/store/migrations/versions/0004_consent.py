"""Spoken consent: challenges, evidence kept with each clone, per-account policy overrides.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from voxclone.store.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_policies",
        sa.Column(
            "account_id", sa.String(40), sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("require_consent", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "consent_challenges",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "account_id", sa.String(40), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("speaker_name", sa.String(200), nullable=True),
        sa.Column("phrase", sa.String(1000), nullable=False),
        sa.Column("statement", sa.String(1000), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("clone_id", sa.String(40), nullable=True),
    )
    op.create_index("ix_consent_challenges_account_id", "consent_challenges", ["account_id"])
    op.create_index("ix_consent_challenges_expires_at", "consent_challenges", ["expires_at"])
    op.create_table(
        "consent_records",
        sa.Column(
            "clone_id", sa.String(40), sa.ForeignKey("voice_clones.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "account_id", sa.String(40), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("challenge_id", sa.String(40), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("phrase", sa.String(1000), nullable=False),
        sa.Column("transcript", sa.String(4000), nullable=False),
        sa.Column("word_score", sa.Float(), nullable=False),
        sa.Column("speaker_score", sa.Float(), nullable=True),
        sa.Column("speaker_threshold", sa.Float(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("audio_sha256", sa.String(64), nullable=False),
        sa.Column("audio_key", sa.String(120), nullable=True),
        sa.Column("api_key_id", sa.String(40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_consent_records_account_id", "consent_records", ["account_id"])


def downgrade() -> None:
    op.drop_table("consent_records")
    op.drop_table("consent_challenges")
    op.drop_table("consent_policies")
