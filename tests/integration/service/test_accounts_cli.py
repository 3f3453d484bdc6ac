"""`posecoach users disable|enable|reset` and `posecoach keys list|create|revoke|rotate` on the settings' database:
keys printed once and working, revoked and rotated keys refused, bad input one line and a non-zero exit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from posecoach.cli.app import main
from posecoach.service import accounts_db
from posecoach.service.db import Database


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POSECOACH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("POSECOACH_DATABASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "add", "root", "--role", "admin"]) == 0
    return tmp_path


def _db(data: Path) -> Database:
    return Database(f"sqlite:///{data / 'posecoach.db'}")


def _last_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_keys_are_created_listed_rotated_and_revoked(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["keys", "create", "root", "--name", "backup", "--scopes", "read", "--expires-days", "7"]) == 0
    key = _last_line(capsys)
    db = _db(data)
    try:
        auth = accounts_db.key_auth(db, key)
        assert auth is not None and auth.scopes == {"read"} and auth.key is not None and auth.key.expires_at
        key_id = auth.key.id
        assert main(["keys", "list", "root"]) == 0
        listed = capsys.readouterr().out
        assert key_id in listed and "backup" in listed and key not in listed
        assert main(["keys", "rotate", "root", key_id]) == 0
        new_key = _last_line(capsys)
        assert accounts_db.key_auth(db, key) is None and accounts_db.key_auth(db, new_key) is not None
        new_id = accounts_db.key_auth(db, new_key).key.id  # type: ignore[union-attr]
        assert main(["keys", "revoke", "root", new_id]) == 0
        assert accounts_db.key_auth(db, new_key) is None
    finally:
        db.close()
    assert main(["keys", "revoke", "root", "0" * 32]) == 1
    assert main(["keys", "create", "nobody"]) == 1
    assert main(["keys", "create", "root", "--scopes", "everything"]) == 1
    err = capsys.readouterr().err
    assert "no such key" in err and "no user named 'nobody'" in err and "scopes must be" in err
    assert "Traceback" not in err


def test_users_are_disabled_enabled_and_reset(data: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("alice's password\n"))
    assert main(["users", "add", "alice", "--key"]) == 0
    key = _last_line(capsys)
    db = _db(data)
    try:
        token = accounts_db.start_session(db, accounts_db.user_named(db, "alice"))
        assert main(["users", "disable", "alice"]) == 0
        assert accounts_db.key_auth(db, key) is None and accounts_db.session_auth(db, token, 600, 3600) is None
        assert main(["users", "enable", "alice"]) == 0
        assert accounts_db.key_auth(db, key) is not None
        token = accounts_db.start_session(db, accounts_db.user_named(db, "alice"))
        monkeypatch.setattr("sys.stdin", io.StringIO("a brand new password\n"))
        assert main(["users", "reset", "alice", "--password-stdin"]) == 0
        assert accounts_db.session_auth(db, token, 600, 3600) is None
        assert accounts_db.check_password(db, "alice", "a brand new password") is not None
        assert accounts_db.check_password(db, "alice", "alice's password") is None
    finally:
        db.close()
    assert main(["users", "disable", "nobody"]) == 1
    assert "no user named 'nobody'" in capsys.readouterr().err
