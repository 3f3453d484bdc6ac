"""Data lifecycle (issue 25): the job outbox and the audit log.

* ``jobs.dispatched_at``: when the job was handed to the queue (the outbox marker). A job is committed with NULL
  and marked once its message is sent; the dispatcher sends again the queued jobs left NULL (the queue was down).
  Jobs existing before this revision count as handed over (at their creation).
* ``audit_events``: who read or changed which patient's data, and sign-ins (`posecoach.service.audit`). No foreign
  keys: the log outlives the accounts it names.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from posecoach.service.migrations import drop_columns

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

AT = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")  # ordered to the microsecond
_jobs = sa.table("jobs", sa.column("dispatched_at", sa.DateTime()), sa.column("created_at", sa.DateTime()))


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(), nullable=True))
    op.get_bind().execute(_jobs.update().values(dispatched_at=_jobs.c.created_at))
    op.create_table("audit_events",
                    sa.Column("id", sa.String(32), primary_key=True),
                    sa.Column("at", AT, nullable=False),
                    sa.Column("action", sa.String(32), nullable=False),
                    sa.Column("actor_id", sa.String(32), nullable=True),
                    sa.Column("actor_name", sa.String(100), nullable=True),
                    sa.Column("subject_id", sa.String(32), nullable=True),
                    sa.Column("subject_name", sa.String(100), nullable=True),
                    sa.Column("object_type", sa.String(32), nullable=True),
                    sa.Column("object_id", sa.String(64), nullable=True),
                    sa.Column("detail", sa.String(255), nullable=True),
                    sa.Column("address", sa.String(64), nullable=True))
    for column in ("at", "action", "actor_id", "subject_id"):
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column])


def downgrade() -> None:
    op.drop_table("audit_events")
    drop_columns("jobs", ("dispatched_at",))
