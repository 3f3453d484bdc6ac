"""The first schema: users with hashed API keys and roles, care links, videos, jobs and results.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.String(32), primary_key=True)


def _owner(column: str = "owner_id", table: str = "users") -> sa.Column:
    return sa.Column(column, sa.String(32), sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def upgrade() -> None:
    op.create_table("users", _id(), sa.Column("name", sa.String(100), nullable=False, unique=True),
                    sa.Column("role", sa.String(16), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_table("api_keys", _id(), _owner("user_id"),
                    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
                    sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_table("care_links",
                    sa.Column("clinician_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                              primary_key=True),
                    sa.Column("patient_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                              primary_key=True))
    op.create_table("videos", _id(), _owner(),
                    sa.Column("filename", sa.String(255), nullable=False),
                    sa.Column("storage_key", sa.String(255), nullable=False),
                    sa.Column("size_bytes", sa.BigInteger(), nullable=False),
                    sa.Column("width", sa.Integer(), nullable=False),
                    sa.Column("height", sa.Integer(), nullable=False),
                    sa.Column("fps", sa.Float(), nullable=False),
                    sa.Column("num_frames", sa.Integer(), nullable=False),
                    sa.Column("duration_s", sa.Float(), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_table("jobs", _id(), _owner(), _owner("video_id", "videos"),
                    sa.Column("kind", sa.String(32), nullable=False),
                    sa.Column("params", sa.Text(), nullable=False),
                    sa.Column("state", sa.String(16), nullable=False, index=True),
                    sa.Column("progress", sa.Float(), nullable=False),
                    sa.Column("error", sa.Text(), nullable=True),
                    sa.Column("attempts", sa.Integer(), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("started_at", sa.DateTime(), nullable=True),
                    sa.Column("finished_at", sa.DateTime(), nullable=True))
    op.create_table("results", _id(), _owner("job_id", "jobs"),
                    sa.Column("kind", sa.String(32), nullable=False),
                    sa.Column("storage_key", sa.String(255), nullable=False),
                    sa.Column("exercise", sa.String(64), nullable=True),
                    sa.Column("rep_count", sa.Integer(), nullable=True),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.UniqueConstraint("job_id", "kind", name="uq_results_job_kind"))


def downgrade() -> None:
    for table in ("results", "jobs", "videos", "care_links", "api_keys", "users"):
        op.drop_table(table)
