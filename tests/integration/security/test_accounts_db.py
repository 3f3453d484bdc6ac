"""Accounts in the database on SQLite, PostgreSQL and MariaDB (migration 0006): keys made before it keep working
with every scope and no expiry, sessions end server-side, revoked and expired keys stop working, and the
throttling of failed sign-ins is shared by every process that uses the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import column, insert, inspect, select, table, update

from posecoach.service import accounts_db, throttle
from posecoach.service.accounts_db import UserSession
from posecoach.service.db import ApiKey, Database, hash_key, new_id, utcnow
from posecoach.service.migrations import downgrade, upgrade
from posecoach.service.settings import Settings


def test_keys_made_before_0006_keep_working_with_every_scope(db: Database) -> None:
    downgrade(db.engine, "0005")
    assert "scopes" not in {c["name"] for c in inspect(db.engine).get_columns("api_keys")}
    users = table("users", column("id"), column("name"), column("role"), column("created_at"))
    keys = table("api_keys", column("id"), column("user_id"), column("key_hash"), column("created_at"))
    uid, key = new_id(), "pc_made_by_an_old_release_0123456789"
    with db.engine.begin() as conn:  # an account and key as the old `create_user` made them
        conn.execute(insert(users).values(id=uid, name="old", role="clinician", created_at=utcnow()))
        conn.execute(insert(keys).values(id=new_id(), user_id=uid, key_hash=hash_key(key), created_at=utcnow()))
    upgrade(db.engine)
    auth = accounts_db.key_auth(db, key)
    assert auth is not None and auth.user.name == "old" and auth.scopes == {"read", "write", "admin"}
    assert auth.key is not None and auth.key.expires_at is None and auth.key.revoked_at is None
    assert auth.user.password_hash is None and auth.user.disabled_at is None
    # going back removes the keys that had less power than every scope for ever (revoked here), keeps the rest
    user = auth.user
    revoked, revoked_key = accounts_db.create_key(db, user, "to revoke", ["read"])
    accounts_db.revoke_key(db, user, revoked.id)
    downgrade(db.engine, "0005")
    with db.engine.connect() as conn:
        assert set(conn.execute(select(keys.c.key_hash)).scalars()) == {hash_key(key)}
    upgrade(db.engine)
    assert db.user_for_key(key) is not None and db.user_for_key(revoked_key) is None


def test_sessions_end_on_sign_out_expiry_and_disable(db: Database) -> None:
    user, _ = db.create_user("alice")
    token = accounts_db.start_session(db, user, address="10.0.0.1")
    auth = accounts_db.session_auth(db, token, idle_s=600, max_s=3600)
    assert auth is not None and auth.user.id == user.id and auth.session is not None
    assert accounts_db.end_session(db, token) is not None
    assert accounts_db.session_auth(db, token, idle_s=600, max_s=3600) is None
    token = accounts_db.start_session(db, user)
    with db.session() as s:
        s.execute(update(UserSession).values(created_at=utcnow() - timedelta(seconds=3601)))
    assert accounts_db.session_auth(db, token, idle_s=600, max_s=3600) is None
    token = accounts_db.start_session(db, user)
    accounts_db.set_disabled(db, "alice", True)
    assert accounts_db.session_auth(db, token, idle_s=600, max_s=3600) is None
    with db.session() as s:
        assert s.scalars(select(UserSession)).all() == []


def test_revoked_rotated_and_expired_keys_stop_working(db: Database) -> None:
    user, first = db.create_user("bob")
    row, key = accounts_db.create_key(db, user, "ci", ["read"], utcnow() + timedelta(days=1))
    assert accounts_db.key_auth(db, key).scopes == {"read"}  # type: ignore[union-attr]
    new_row, new_key = accounts_db.rotate_key(db, user, row.id)
    assert db.user_for_key(key) is None and db.user_for_key(new_key) is not None
    assert new_row.name == "ci" and new_row.scopes == "read" and new_row.expires_at is not None
    with pytest.raises(accounts_db.Invalid):
        accounts_db.rotate_key(db, user, row.id)
    with db.session() as s:
        s.execute(update(ApiKey).where(ApiKey.id == new_row.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert db.user_for_key(new_key) is None
    other, _ = db.create_user("eve")
    with pytest.raises(accounts_db.NotFound):
        accounts_db.revoke_key(db, other, new_row.id)  # not eve's
    assert db.user_for_key(first) is not None


def test_throttling_is_shared_by_every_process_of_the_database(db: Database) -> None:
    settings = Settings(sign_in_max_failures=3, sign_in_max_failures_per_address=50, sign_in_window_s=60)
    other = Database(db.url)  # another process's engine on the same database
    try:
        for i in range(3):
            throttle.check(db if i % 2 else other, settings, account="Alice", address="10.0.0.9")
            throttle.fail(db if i % 2 else other, settings, account="Alice", address="10.0.0.9")
        with pytest.raises(throttle.Throttled) as caught:
            throttle.check(other, settings, account="alice")  # names are counted case-insensitively
        assert 1 <= caught.value.retry_after <= 60
        throttle.check(db, settings, account="bob", address="10.0.0.9")  # under the address's limit
        with db.session() as s:  # stored as hashes, never as typed
            subjects = s.scalars(select(throttle.SignInFailure.subject)).all()
        assert len(subjects) == 6 and not any("alice" in x.lower() or "10.0" in x for x in subjects)
        throttle.forgive(other, "alice")
        throttle.check(db, settings, account="alice")
    finally:
        other.close()
