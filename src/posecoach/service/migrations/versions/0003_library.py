"""The reference library and posture models, and the summary figures of a result (score, form errors, falls)
that the history shows over time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _library_table(name: str, *columns: sa.Column) -> None:
    op.create_table(name, sa.Column("id", sa.String(32), primary_key=True),
                    sa.Column("owner_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                              nullable=False, index=True),
                    sa.Column("name", sa.String(64), nullable=False),
                    sa.Column("job_id", sa.String(32), nullable=True),
                    sa.Column("storage_key", sa.String(255), nullable=True),
                    *columns,
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.UniqueConstraint("owner_id", "name", name=f"uq_{name}_owner_name"))


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("error_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fall_count", sa.Integer(), nullable=True))
    _library_table("reference_guides", sa.Column("guide", sa.Text(), nullable=False),
                   sa.Column("video_id", sa.String(32), nullable=True),
                   sa.Column("frames", sa.Integer(), nullable=True),
                   sa.Column("duration_s", sa.Float(), nullable=True))
    _library_table("posture_models", sa.Column("classes", sa.Text(), nullable=False),
                   sa.Column("algorithm", sa.String(16), nullable=True),
                   sa.Column("cv_accuracy", sa.Float(), nullable=True),
                   sa.Column("frames", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_table("posture_models")
    op.drop_table("reference_guides")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("fall_count")
        batch.drop_column("error_count")
        batch.drop_column("score")
