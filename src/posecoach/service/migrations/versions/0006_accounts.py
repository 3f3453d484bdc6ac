"""Accounts (issue 25): passwords, server-side sessions, API keys with scopes, expiry and revocation, and the
failed sign-ins that throttling counts.

* ``users``: ``password_hash`` (argon2id; NULL: no password yet, the account signs in with a key only),
  ``disabled_at`` (a disabled account authenticates with nothing), ``totp_secret`` and ``totp_enabled_at`` (the
  second factor, required once confirmed).
* ``api_keys``: ``name``, ``prefix`` (the first characters, to tell keys apart), ``scopes`` (space-separated:
  ``read write admin``), ``expires_at``, ``revoked_at``, ``last_used_at``. Keys made before this revision keep
  working as they did: every scope, no expiry.
* ``user_sessions``: the web app's sign-ins; the cookie holds a random token, the table only its SHA-256.
* ``sign_in_failures``: one row per failed sign-in or wrong API key, per account and per client address (both
  stored as SHA-256, never as typed), so that throttling holds across processes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from posecoach.service.migrations import drop_columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(255), nullable=True))
        batch.add_column(sa.Column("disabled_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("name", sa.String(100), nullable=False, server_default="first key"))
        batch.add_column(sa.Column("prefix", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("scopes", sa.String(64), nullable=False, server_default="read write admin"))
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
    op.create_table("user_sessions",
                    sa.Column("id", sa.String(32), primary_key=True),
                    sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                              nullable=False, index=True),
                    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
                    sa.Column("scopes", sa.String(64), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("last_seen_at", sa.DateTime(), nullable=False),
                    sa.Column("address", sa.String(64), nullable=True))
    op.create_table("sign_in_failures",
                    sa.Column("id", sa.String(32), primary_key=True),
                    sa.Column("kind", sa.String(16), nullable=False),
                    sa.Column("subject", sa.String(64), nullable=False),
                    sa.Column("at", sa.DateTime(), nullable=False, index=True))
    op.create_index("ix_sign_in_failures_subject", "sign_in_failures", ["kind", "subject", "at"])


def downgrade() -> None:
    # before 0006 every key had every power for ever: remove the keys that had less (revoked, expiring, fewer
    # scopes, a disabled account's), so that going back gives no key more power than it had
    keys = sa.table("api_keys", sa.column("user_id", sa.String(32)), sa.column("scopes", sa.String(64)),
                    sa.column("expires_at", sa.DateTime()), sa.column("revoked_at", sa.DateTime()))
    users = sa.table("users", sa.column("id", sa.String(32)), sa.column("disabled_at", sa.DateTime()))
    disabled = sa.select(users.c.id).where(users.c.disabled_at.is_not(None))
    op.get_bind().execute(keys.delete().where(sa.or_(
        keys.c.revoked_at.is_not(None), keys.c.expires_at.is_not(None), keys.c.scopes != "read write admin",
        keys.c.user_id.in_(disabled))))
    op.drop_index("ix_sign_in_failures_subject", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_table("user_sessions")
    for name, columns in (("api_keys", ("last_used_at", "revoked_at", "expires_at", "scopes", "prefix", "name")),
                          ("users", ("totp_enabled_at", "totp_secret", "disabled_at", "password_hash"))):
        drop_columns(name, columns)
