"""Finished live sessions (issue 26): a live set is kept as a History entry like an uploaded analysis: exercise,
count and its confidence, form errors (and per repetition, as JSON), the set's target, its duration and when.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("live_sessions",
                    sa.Column("id", sa.String(32), primary_key=True),
                    sa.Column("owner_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                              nullable=False),
                    sa.Column("exercise", sa.String(64), nullable=True),
                    sa.Column("title", sa.String(100), nullable=False),
                    sa.Column("rep_count", sa.Integer(), nullable=False),
                    sa.Column("rep_confidence", sa.Float(), nullable=True),
                    sa.Column("error_count", sa.Integer(), nullable=False),
                    sa.Column("hold_s", sa.Float(), nullable=True),
                    sa.Column("target", sa.Integer(), nullable=True),
                    sa.Column("duration_s", sa.Float(), nullable=False),
                    sa.Column("reps", sa.Text(), nullable=False),
                    sa.Column("started_at", sa.DateTime(), nullable=False),
                    sa.Column("finished_at", sa.DateTime(), nullable=False))
    op.create_index("ix_live_sessions_owner_id", "live_sessions", ["owner_id"])
    op.create_index("ix_live_sessions_finished_at", "live_sessions", ["finished_at"])


def downgrade() -> None:
    op.drop_table("live_sessions")  # its indexes go with it (MariaDB refuses to drop one a foreign key uses)
