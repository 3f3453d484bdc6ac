"""Issue 25, sign-in: "The session cookie's value is the raw, long-lived API key; signing out leaves it valid; keys
cannot be revoked, rotated or expired; the first start prints the admin key into the log; 2,300 wrong keys in 5 s
were never throttled."

Each test fails on the code before: the cookie was the key (and a cookie holding a key authenticated), the cookie
copied before sign-out still worked afterwards, there were no key routes (404) and no scopes, `posecoach serve`
created ``admin`` and printed its key, and wrong keys and passwords were answered 401 for ever.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from posecoach.service import accounts_db
from posecoach.service.accounts_db import UserSession
from posecoach.service.auth import SESSION_COOKIE
from posecoach.service.db import ApiKey, Database, utcnow
from tests.integration.service.conftest import Api, ApiFactory

PASSWORD = "a long enough password"


def _db(api: Api) -> Database:
    return api.client.app.state.db  # type: ignore[attr-defined,no-any-return]


def with_password(api: Api, who: str, password: str = PASSWORD) -> None:
    db = _db(api)
    accounts_db.set_password(db, accounts_db.user_named(db, who), accounts_db.hash_password(password))


def client_from(api: Api, address: str, cookie: str | None = None) -> TestClient:
    """Another client of the same running app, from another address (no lifespan of its own)."""
    client = TestClient(api.client.app, client=(address, 40000))
    if cookie:
        client.cookies.set(SESSION_COOKIE, cookie)
    return client


def sign_in(client: TestClient, **body: Any) -> Any:
    return client.post("/v1/session", json=body)


def test_the_session_cookie_is_an_opaque_token_not_the_api_key(api: Api) -> None:
    signed = sign_in(api.client, api_key=api.keys["alice"])
    assert signed.status_code == 200, signed.text
    token = api.client.cookies[SESSION_COOKIE]
    assert token != api.keys["alice"] and not token.startswith("pc_")
    assert "posecoach_key" not in api.client.cookies
    with _db(api).session() as s:  # only its hash is stored
        stored = s.query(UserSession.token_hash).all()
    assert stored and all(token not in row[0] for row in stored)
    # a cookie that holds an API key (the old scheme) authenticates nobody
    thief = client_from(api, "10.0.0.2", cookie=api.keys["bob"])
    assert thief.get("/v1/me").status_code == 401
    thief.cookies.set("posecoach_key", api.keys["bob"])
    assert thief.get("/v1/me").status_code == 401


def test_signing_out_ends_the_session_on_the_server(api: Api) -> None:
    with_password(api, "alice")
    assert sign_in(api.client, username="alice", password=PASSWORD).status_code == 200
    token = api.client.cookies[SESSION_COOKIE]
    copy = client_from(api, "10.0.0.3", cookie=token)  # e.g. a cookie stolen before sign-out
    assert copy.get("/v1/me").json()["name"] == "alice"
    assert api.client.delete("/v1/session").status_code == 204
    answer = copy.get("/v1/me")
    assert answer.status_code == 401 and "session has ended" in answer.json()["detail"]
    with _db(api).session() as s:
        assert s.query(UserSession).count() == 0


def test_sessions_expire_when_idle_and_after_their_lifetime(api_factory: ApiFactory) -> None:
    api = api_factory(session_idle_s=600, session_max_s=3600)
    with_password(api, "alice")
    db = _db(api)
    for field, age in (("last_seen_at", 601), ("created_at", 3601)):
        client = client_from(api, "10.0.0.4")
        assert sign_in(client, username="alice", password=PASSWORD).status_code == 200
        assert client.get("/v1/me").status_code == 200
        with db.session() as s:
            s.execute(update(UserSession).values({field: utcnow() - timedelta(seconds=age)}))
        assert client.get("/v1/me").status_code == 401, field
        with db.session() as s:  # the ended session is gone
            assert s.query(UserSession).count() == 0
    # in use, a session lives on past the idle time (each request renews it)
    client = client_from(api, "10.0.0.4")
    sign_in(client, username="alice", password=PASSWORD)
    with db.session() as s:
        s.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(seconds=500)))
    assert client.get("/v1/me").status_code == 200
    with db.session() as s:
        assert utcnow() - s.query(UserSession).one().last_seen_at < timedelta(seconds=60)


def test_password_reset_and_disable_end_sessions_and_keys(api: Api) -> None:
    with_password(api, "alice")
    alice = client_from(api, "10.0.0.5")
    assert sign_in(alice, username="alice", password=PASSWORD).status_code == 200
    reset = api.call("POST", "/v1/users/alice/reset", "root", json={})
    assert reset.status_code == 200 and len(reset.json()["password"]) >= 10
    assert alice.get("/v1/me").status_code == 401
    assert sign_in(alice, username="alice", password=PASSWORD).status_code == 401
    assert sign_in(alice, username="alice", password=reset.json()["password"]).status_code == 200
    assert api.call("POST", "/v1/users/alice/disable", "root").json()["disabled"] is True
    assert alice.get("/v1/me").status_code == 401
    assert api.call("GET", "/v1/me", "alice").status_code == 401  # the key too
    assert sign_in(alice, username="alice", password=reset.json()["password"]).status_code == 401
    assert api.call("POST", "/v1/users/root/disable", "root").status_code == 409  # not oneself
    assert api.call("POST", "/v1/users/alice/enable", "root").status_code == 200
    assert api.call("GET", "/v1/me", "alice").status_code == 200
    assert api.call("POST", "/v1/users/alice/disable", "bob").status_code == 403


def test_keys_can_be_revoked_rotated_and_expire(api: Api) -> None:
    made = api.call("POST", "/v1/keys", "alice", json={"name": "uploader", "scopes": ["read", "write"],
                                                      "expires_in_days": 30})
    assert made.status_code == 201, made.text
    key, info = made.json()["api_key"], made.json()["key"]
    assert info["state"] == "active" and info["expires_at"] and key.startswith(info["prefix"])
    assert api.client.get("/v1/me", headers={"X-API-Key": key}).json()["name"] == "alice"
    listed = api.call("GET", "/v1/keys", "alice").json()
    assert {k["name"] for k in listed} == {"first key", "uploader"}
    assert next(k for k in listed if k["name"] == "uploader")["last_used_at"] is not None
    assert all("api_key" not in k and "key_hash" not in k for k in listed)
    # rotation: a new key, the old one revoked at once
    rotated = api.call("POST", f"/v1/keys/{info['id']}/rotate", "alice")
    assert rotated.status_code == 201
    new_key = rotated.json()["api_key"]
    assert api.client.get("/v1/me", headers={"X-API-Key": key}).status_code == 401
    assert api.client.get("/v1/me", headers={"X-API-Key": new_key}).status_code == 200
    assert rotated.json()["key"]["expires_at"] is not None
    # revocation
    assert api.call("DELETE", f"/v1/keys/{rotated.json()['key']['id']}", "bob").status_code == 404  # not bob's
    assert api.call("DELETE", f"/v1/keys/{rotated.json()['key']['id']}", "alice").status_code == 204
    assert api.client.get("/v1/me", headers={"X-API-Key": new_key}).status_code == 401
    # expiry
    made = api.call("POST", "/v1/keys", "alice", json={"name": "short"}).json()
    with _db(api).session() as s:
        s.execute(update(ApiKey).where(ApiKey.id == made["key"]["id"])
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert api.client.get("/v1/me", headers={"X-API-Key": made["api_key"]}).status_code == 401
    states = {k["name"]: k["state"] for k in api.call("GET", "/v1/keys", "alice").json()}
    assert states == {"first key": "active", "uploader": "revoked", "short": "expired"}


def test_a_read_only_key_cannot_change_anything(api: Api, small_video: bytes) -> None:
    video = api.upload(small_video).json()
    reader = api.call("POST", "/v1/keys", "alice", json={"name": "dashboard", "scopes": ["read"]}).json()["api_key"]
    headers = {"X-API-Key": reader}
    assert api.client.get(f"/v1/videos/{video['id']}", headers=headers).status_code == 200
    for method, url, body in (("POST", "/v1/jobs", {"video_id": video["id"]}),
                              ("DELETE", f"/v1/videos/{video['id']}", None),
                              ("POST", "/v1/keys", {"name": "more", "scopes": ["read", "write"]})):
        answer = api.client.request(method, url, headers=headers, json=body)
        assert answer.status_code == 403 and "read" in answer.json()["detail"], (method, url)
    assert api.client.post("/v1/videos", headers={**headers, "Content-Type": "video/mp4"},
                           content=small_video).status_code == 403
    assert api.call("GET", f"/v1/videos/{video['id']}").status_code == 200  # still there
    # an admin's key without the admin scope cannot manage accounts; non-admins get no admin scope
    admin_rw = api.call("POST", "/v1/keys", "root", json={"name": "rw", "scopes": ["read", "write"]}).json()
    assert api.client.get("/v1/users", headers={"X-API-Key": admin_rw["api_key"]}).status_code == 403
    assert api.call("GET", "/v1/users", "root").status_code == 200
    assert api.call("POST", "/v1/keys", "alice", json={"name": "x", "scopes": ["admin"]}).status_code == 422


def test_wrong_api_keys_are_throttled_per_address(api_factory: ApiFactory) -> None:
    api = api_factory(sign_in_max_failures_per_address=20, sign_in_window_s=600)
    attacker = client_from(api, "10.0.0.66")
    answers = [attacker.get("/v1/me", headers={"X-API-Key": f"pc_guess{i}"}) for i in range(30)]
    codes = [a.status_code for a in answers]
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    last = answers[-1]
    assert 1 <= int(last.headers["retry-after"]) <= 600 and "too many" in last.json()["detail"]
    # a valid key still works from there (nothing to guess), other addresses are not affected
    assert attacker.get("/v1/me", headers={"X-API-Key": api.keys["alice"]}).status_code == 200
    assert client_from(api, "10.0.0.67").get("/v1/me", headers={"X-API-Key": "pc_x"}).status_code == 401
    # signing in with a password from the throttled address is refused before the password is checked
    with_password(api, "bob")
    assert sign_in(attacker, username="bob", password=PASSWORD).status_code == 429


def test_failed_sign_ins_are_throttled_per_account_and_per_address(api_factory: ApiFactory) -> None:
    api = api_factory(sign_in_max_failures=5, sign_in_max_failures_per_address=8, sign_in_window_s=900)
    with_password(api, "alice")
    with_password(api, "bob")
    first = client_from(api, "10.0.1.1")
    codes = [sign_in(first, username="alice", password=f"wrong guess {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    locked = sign_in(first, username="alice", password=PASSWORD)  # even the right password now
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "this account" in locked.json()["detail"]
    # per account: from another address too; the other accounts are not locked
    other = client_from(api, "10.0.1.2")
    assert sign_in(other, username="alice", password=PASSWORD).status_code == 429
    assert sign_in(other, username="bob", password=PASSWORD).status_code == 200
    # per address: one address guessing many accounts (names that do not exist count too)
    spray = client_from(api, "10.0.1.3")
    codes = [sign_in(spray, username=f"user{i}", password="wrong password").status_code for i in range(8)]
    assert codes == [401] * 8
    assert sign_in(spray, username="bob", password=PASSWORD).status_code == 429
    # the window passes: alice signs in again, and a success forgives the account's failures
    from posecoach.service.throttle import SignInFailure

    with _db(api).session() as s:
        s.execute(update(SignInFailure).values(at=utcnow() - timedelta(seconds=901)))
    assert sign_in(first, username="alice", password=PASSWORD).status_code == 200


def test_totp_is_required_once_confirmed(api: Api) -> None:
    import pyotp

    with_password(api, "carol")
    assert api.call("POST", "/v1/me/totp", "alice").status_code == 403  # clinicians and admins only
    enrol = api.call("POST", "/v1/me/totp", "carol")
    assert enrol.status_code == 201 and enrol.json()["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrol.json()["secret"])
    client = client_from(api, "10.0.2.1")
    assert sign_in(client, username="carol", password=PASSWORD).status_code == 200  # not yet confirmed
    assert api.call("POST", "/v1/me/totp/confirm", "carol", json={"code": "000000" if totp.now() != "000000"
                                                                   else "111111"}).status_code == 422
    assert api.call("POST", "/v1/me/totp/confirm", "carol", json={"code": totp.now()}).json()["totp"] is True
    client = client_from(api, "10.0.2.2")
    asked = sign_in(client, username="carol", password=PASSWORD)
    assert asked.status_code == 401 and "one-time code" in asked.json()["detail"]
    assert SESSION_COOKIE not in client.cookies
    assert sign_in(client, username="carol", password=PASSWORD, totp="123").status_code == 401
    assert sign_in(client, username="carol", password=PASSWORD, totp=totp.now()).status_code == 200
    assert client.get("/v1/me").json()["name"] == "carol"


def test_passwords_are_argon2id_and_the_policy_holds(api: Api) -> None:
    made = api.call("POST", "/v1/users", "root", json={"name": "dora", "password": "short"})
    assert made.status_code == 422 and "too short" in made.json()["detail"]
    assert api.call("POST", "/v1/users", "root", json={"name": "dora", "password": " " * 12}).status_code == 422
    assert api.call("POST", "/v1/users", "root", json={"name": "dora", "password": "x" * 1025}).status_code == 422
    assert api.call("POST", "/v1/users", "root", json={"name": "dora", "password": PASSWORD}).status_code == 201
    assert accounts_db.user_named(_db(api), "dora").password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    client = client_from(api, "10.0.3.1")
    assert sign_in(client, username="dora", password=PASSWORD).status_code == 200
    # changing the password needs the current one and ends the other sessions, not this one
    other = client_from(api, "10.0.3.2")
    sign_in(other, username="dora", password=PASSWORD)
    assert client.put("/v1/me/password", json={"current_password": "wrong one!!",
                                               "new_password": "another long one"}).status_code == 403
    assert client.put("/v1/me/password", json={"current_password": PASSWORD,
                                               "new_password": "another long one"}).status_code == 204
    assert client.get("/v1/me").status_code == 200 and other.get("/v1/me").status_code == 401


def test_serve_creates_and_prints_no_admin_key(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The first start printed a new admin's key into the log; now it makes no account and says how to."""
    import uvicorn

    from posecoach.cli.app import main

    monkeypatch.setenv("POSECOACH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("POSECOACH_DATABASE_URL", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    assert main(["serve", "--port", "8999"]) == 0
    out = capsys.readouterr().out
    assert "pc_" not in out and "users add NAME --role admin" in out
    db = Database(f"sqlite:///{tmp_path / 'posecoach.db'}")
    try:
        assert db.count_users() == 0
    finally:
        db.close()
