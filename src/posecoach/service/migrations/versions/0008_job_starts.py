"""The jobs-per-hour quota's ledger (issue 25): one row per job a user was let start (`quotas.admit_job`), kept
an hour. Counting ``jobs`` rows instead let a user start jobs without end by deleting the video (its jobs go with
it) and uploading again. Jobs made in the hour before this revision are entered, so the quota holds across it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    starts = op.create_table("job_starts",
                             sa.Column("id", sa.String(32), primary_key=True),
                             sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                                       nullable=False),
                             sa.Column("at", sa.DateTime(), nullable=False))
    op.create_index("ix_job_starts_user_id", "job_starts", ["user_id"])
    op.create_index("ix_job_starts_at", "job_starts", ["at"])
    jobs = sa.table("jobs", sa.column("owner_id", sa.String(32)), sa.column("created_at", sa.DateTime()))
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    recent = op.get_bind().execute(sa.select(jobs.c.owner_id, jobs.c.created_at).where(jobs.c.created_at >= since))
    rows = [{"id": secrets.token_hex(16), "user_id": owner, "at": at} for owner, at in recent]
    if rows:
        op.bulk_insert(starts, rows)


def downgrade() -> None:
    op.drop_table("job_starts")  # its indexes go with it (MariaDB refuses to drop one a foreign key uses)
