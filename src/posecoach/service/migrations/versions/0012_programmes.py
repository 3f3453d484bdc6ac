"""Home exercise programmes (issue 28): a clinician prescribes exercises from guides to a linked patient; every
edit is a new version (the old ones are kept); the patient records the sessions done, per exercise.

``programmes``: who prescribed it to whom and its current version number. ``programme_versions``: each version's
title and dates; ``programme_items``: its exercises (``item_key`` names the same exercise across versions).
``programme_sessions``: a session the patient recorded (unique per patient and client id, so an upload sent twice
after a lost connection is stored once); ``programme_session_exercises``: what was done of each exercise.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(32), primary_key=True)


def _ref(name: str, target: str, ondelete: str = "CASCADE", nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(32), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "programmes",
        _id(),
        _ref("clinician_id", "users.id", "SET NULL", nullable=True),
        _ref("patient_id", "users.id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_programmes_clinician_id", "programmes", ["clinician_id"])
    op.create_index("ix_programmes_patient_id", "programmes", ["patient_id"])
    op.create_table(
        "programme_versions",
        _id(),
        _ref("programme_id", "programmes.id"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("author", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("programme_id", "version", name="uq_programme_versions_version"),
    )
    op.create_table(
        "programme_items",
        _id(),
        _ref("version_id", "programme_versions.id"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(32), nullable=False),
        sa.Column("guide_id", sa.String(32), nullable=False),
        sa.Column("guide_name", sa.String(64), nullable=False),
        sa.Column("sets", sa.Integer(), nullable=False),
        sa.Column("reps", sa.Integer(), nullable=True),
        sa.Column("hold_s", sa.Float(), nullable=True),
        sa.Column("rest_s", sa.Integer(), nullable=False),
        sa.Column("per_week", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.UniqueConstraint("version_id", "item_key", name="uq_programme_items_key"),
    )
    op.create_index("ix_programme_items_version_id", "programme_items", ["version_id"])
    op.create_table(
        "programme_sessions",
        _id(),
        _ref("programme_id", "programmes.id"),
        _ref("patient_id", "users.id"),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("pain", sa.Integer(), nullable=True),
        sa.Column("difficulty", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("patient_id", "client_id", name="uq_programme_sessions_client"),
    )
    op.create_index("ix_programme_sessions_programme_id", "programme_sessions", ["programme_id"])
    op.create_table(
        "programme_session_exercises",
        _id(),
        _ref("session_id", "programme_sessions.id"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(32), nullable=False),
        sa.Column("sets_done", sa.Integer(), nullable=False),
        sa.Column("reps_done", sa.Integer(), nullable=False),
        sa.Column("scores", sa.Text(), nullable=False),
        sa.Column("rom_deg", sa.Float(), nullable=True),
        sa.UniqueConstraint("session_id", "item_key", name="uq_programme_session_exercises_item"),
    )


def downgrade() -> None:
    # children first; their indexes go with them (MariaDB refuses to drop one a foreign key uses)
    for table in (
        "programme_session_exercises",
        "programme_sessions",
        "programme_items",
        "programme_versions",
        "programmes",
    ):
        op.drop_table(table)
