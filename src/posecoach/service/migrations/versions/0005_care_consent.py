"""Care links with the patient's consent (issue 25): a link has its own id, a state (``pending`` until the patient
accepts the clinician's invitation, then ``accepted``), when it was made and when it was accepted.

Links made before this revision were made without asking the patient: they become ``pending`` invitations, so
the clinician reads nothing more of that patient until the patient accepts.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_links = sa.table("care_links", sa.column("clinician_id", sa.String(32)), sa.column("patient_id", sa.String(32)),
                  sa.column("id", sa.String(32)), sa.column("state", sa.String(16)),
                  sa.column("created_at", sa.DateTime()))


def upgrade() -> None:
    with op.batch_alter_table("care_links") as batch:
        batch.add_column(sa.Column("id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("accepted_at", sa.DateTime(), nullable=True))
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    for clinician_id, patient_id in bind.execute(sa.select(_links.c.clinician_id, _links.c.patient_id)).all():
        bind.execute(_links.update().where(_links.c.clinician_id == clinician_id, _links.c.patient_id == patient_id)
                     .values(id=secrets.token_hex(16), state="pending", created_at=now))
    with op.batch_alter_table("care_links") as batch:
        batch.alter_column("id", existing_type=sa.String(32), nullable=False)
        batch.alter_column("created_at", existing_type=sa.DateTime(), nullable=False)
        batch.create_unique_constraint("uq_care_links_id", ["id"])


def downgrade() -> None:
    op.get_bind().execute(_links.delete().where(_links.c.state != "accepted"))  # before 0005 every row gave access
    with op.batch_alter_table("care_links") as batch:
        batch.drop_constraint("uq_care_links_id", type_="unique")
        batch.drop_column("accepted_at")
        batch.drop_column("created_at")
        batch.drop_column("state")
        batch.drop_column("id")
