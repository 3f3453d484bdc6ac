"""Fall alerts kept and delivered (issue 26, point 6) and History's range of motion (point 5).

* ``fall_alerts``: one row per fall alert, of an uploaded video's falls job or of a live camera session: when it
  fired, where (the job and its clip's name, or the live session), the event's time in the clip, what became of
  the person (down, lost, got_up), confirmed or not; who acknowledged it, when, with an optional note; and its
  delivery to the owner's webhook (the alert outbox: none, pending, sending, sent, failed).
* ``alert_destinations``: each user's webhook URL for their alerts.
* ``results.rom`` and ``results.rom_unit``: an analysis' typical range of motion per repetition (degrees, or
  estimated centimetres), for History's "range of motion over time".

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from posecoach.service.migrations import drop_columns

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

AT = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")  # MariaDB keeps whole seconds otherwise


def upgrade() -> None:
    op.create_table("fall_alerts",
                    sa.Column("id", sa.String(32), primary_key=True),
                    sa.Column("owner_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                              nullable=False),
                    sa.Column("source", sa.String(16), nullable=False),
                    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True),
                    sa.Column("live_id", sa.String(32), nullable=True),
                    sa.Column("source_name", sa.String(255), nullable=False),
                    sa.Column("event_index", sa.Integer(), nullable=False),
                    sa.Column("alert_s", sa.Float(), nullable=False),
                    sa.Column("impact_s", sa.Float(), nullable=True),
                    sa.Column("outcome", sa.String(16), nullable=False),
                    sa.Column("confirmed", sa.Boolean(), nullable=False),
                    sa.Column("confidence", sa.Float(), nullable=True),
                    sa.Column("created_at", AT, nullable=False),
                    sa.Column("updated_at", AT, nullable=False),
                    sa.Column("acknowledged_at", AT, nullable=True),
                    sa.Column("acknowledged_by", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL"),
                              nullable=True),
                    sa.Column("acknowledged_by_name", sa.String(100), nullable=True),
                    sa.Column("ack_note", sa.String(500), nullable=True),
                    sa.Column("delivery", sa.String(16), nullable=False),
                    sa.Column("delivery_attempts", sa.Integer(), nullable=False),
                    sa.Column("delivery_next_at", AT, nullable=True),
                    sa.Column("delivered_at", AT, nullable=True),
                    sa.Column("delivered_kind", sa.String(16), nullable=True),
                    sa.Column("delivery_error", sa.String(255), nullable=True),
                    sa.UniqueConstraint("job_id", "event_index", name="uq_fall_alerts_job_event"))
    op.create_index("ix_fall_alerts_owner_id", "fall_alerts", ["owner_id"])
    op.create_index("ix_fall_alerts_created_at", "fall_alerts", ["created_at"])
    op.create_index("ix_fall_alerts_delivery", "fall_alerts", ["delivery"])
    op.create_table("alert_destinations",
                    sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                              primary_key=True),
                    sa.Column("webhook_url", sa.String(2048), nullable=False),
                    sa.Column("updated_at", AT, nullable=False))
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("rom", sa.Float(), nullable=True))
        batch.add_column(sa.Column("rom_unit", sa.String(16), nullable=True))


def downgrade() -> None:
    drop_columns("results", ("rom_unit", "rom"))
    op.drop_table("alert_destinations")
    op.drop_table("fall_alerts")  # its indexes go with it (MariaDB refuses to drop one a foreign key uses)
