"""Data lifecycle (issue 25): the job outbox and the audit log.

Placeholder revision: filled in by the lifecycle work; until then it changes nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
