"""Accounts (issue 25): passwords, server-side sessions, API keys with scopes, expiry and revocation.

Placeholder revision: filled in by the sign-in work; until then it changes nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
