"""Accounts (migration 0006): passwords, server-side sessions, API keys with scopes, expiry, revocation and
rotation, disabled accounts and the TOTP second factor. `throttle` counts the failed sign-ins.

* **Passwords** are hashed with argon2id (`argon2-cffi`, its default RFC 9106 parameters) and re-hashed when those
  change. A sign-in to a name that does not exist costs the same hash, so the answer's time tells nothing.
* **Sessions.** The web app's cookie holds a random 256-bit token; the table keeps its SHA-256 only. A session ends
  when unused for ``session_idle_s``, ``session_max_s`` after its sign-in, at sign-out, and when its account's
  password is changed or reset or the account is disabled.
* **API keys** are for programs: each has a name, scopes (`SCOPES`), an optional expiry, and may be revoked or
  rotated (a new key with the same name and scopes; the old one is revoked). Only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import DateTime, ForeignKey, String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from posecoach.service.db import FULL_SCOPES, ApiKey, Base, Database, User, hash_key, new_id, new_key, utcnow

# read: GET requests and the live socket; write: every request that changes something; admin: the account
# administration routes (users), for admins' keys only
SCOPES = ("read", "write", "admin")
MAX_PASSWORD = 1024  # characters: a longer one is refused before hashing (no megabyte passwords to hash)
_hasher = PasswordHasher()  # argon2id
_DUMMY = _hasher.hash("not a password of anyone")


class NotFound(LookupError):
    """No such user or key (or none of the caller's): 404."""


class Refused(PermissionError):
    """The caller may not do this: 403."""


class Invalid(ValueError):
    """A password, code or scope that does not do: 422 with the reason."""


class UserSession(Base):
    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(64), default=FULL_SCOPES)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)


@dataclass(frozen=True)
class Auth:
    """Who a request is and what it may do: the user, the scopes of its key or session, and which one it was."""

    user: User
    scopes: frozenset[str]
    key: ApiKey | None = None
    session: UserSession | None = None


# passwords -----------------------------------------------------------------------------------------------------
def password_refusal(password: str, min_length: int, name: str | None = None) -> str | None:
    """Why ``password`` is refused (too short, too long, blank, the account's name); None when it will do."""
    if not password.strip():
        return "the password is blank"
    if len(password) < min_length:
        return f"the password is too short: at least {min_length} characters"
    if len(password) > MAX_PASSWORD:
        return f"the password is too long: at most {MAX_PASSWORD} characters"
    if name and password.strip().lower() == name.lower():
        return "the password may not be the account's name"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(db: Database, name: str, password: str) -> User | None:
    """The enabled user ``name`` whose password this is, else None (as slow for an unknown name)."""
    with db.session() as s:
        user = s.scalars(select(User).where(User.name == name)).first()
    if user is None or not user.password_hash or len(password) > MAX_PASSWORD:
        _verify(_DUMMY, password[:MAX_PASSWORD])
        return None
    if not _verify(user.password_hash, password) or user.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        with db.session() as s:
            s.execute(update(User).where(User.id == user.id).values(password_hash=hash_password(password)))
    return user


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(db: Database, user: User, password_hash: str, keep_session: str | None = None) -> None:
    """Set (change or reset) a password; ends the user's sessions but ``keep_session`` (the one changing it)."""
    with db.session() as s:
        s.execute(update(User).where(User.id == user.id).values(password_hash=password_hash))
        query = delete(UserSession).where(UserSession.user_id == user.id)
        if keep_session:
            query = query.where(UserSession.id != keep_session)
        s.execute(query)


# users (administration) ------------------------------------------------------------------------------------------
def user_named(db: Database, name: str) -> User:
    with db.session() as s:
        user = s.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def users(db: Database) -> list[User]:
    with db.session() as s:
        return list(s.scalars(select(User).order_by(User.name)).all())


def set_disabled(db: Database, name: str, disabled: bool) -> User:
    """Disable an account (its sessions end, its keys stop working) or enable it again."""
    user = user_named(db, name)
    with db.session() as s:
        s.execute(update(User).where(User.id == user.id).values(disabled_at=utcnow() if disabled else None))
        if disabled:
            s.execute(delete(UserSession).where(UserSession.user_id == user.id))
    return user_named(db, name)


# sessions ----------------------------------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(db: Database, user: User, scopes: str = FULL_SCOPES, address: str | None = None) -> str:
    """A new session of ``user``; the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as s:
        s.add(UserSession(id=new_id(), user_id=user.id, token_hash=_token_hash(token), scopes=scopes,
                          created_at=now, last_seen_at=now, address=(address or "")[:64] or None))
    return token


def session_auth(db: Database, token: str, idle_s: float, max_s: float) -> Auth | None:
    """The signed-in user of a session token, while the session lasts; an ended session's row is removed."""
    now = utcnow()
    with db.session() as s:
        row = s.execute(select(UserSession, User).join(User, User.id == UserSession.user_id)
                        .where(UserSession.token_hash == _token_hash(token))).first()
        if row is None:
            return None
        session, user = row
        if (user.disabled_at is not None or now - session.created_at > timedelta(seconds=max_s)
                or now - session.last_seen_at > timedelta(seconds=idle_s)):
            s.delete(session)
            return None
        if now - session.last_seen_at > timedelta(seconds=min(60.0, idle_s / 10)):  # one write a minute at most
            session.last_seen_at = now
    return Auth(user, frozenset(session.scopes.split()), session=session)


def end_session(db: Database, token: str) -> User | None:
    """Sign out: the session of ``token`` ends (its user, or None when there was none)."""
    with db.session() as s:
        session = s.scalars(select(UserSession).where(UserSession.token_hash == _token_hash(token))).first()
        if session is None:
            return None
        user = s.get(User, session.user_id)
        s.delete(session)
        return user


def end_sessions(db: Database, user: User, keep: str | None = None) -> int:
    """End every session of ``user`` but ``keep``; how many ended."""
    with db.session() as s:
        query = delete(UserSession).where(UserSession.user_id == user.id)
        if keep:
            query = query.where(UserSession.id != keep)
        return int(s.execute(query).rowcount or 0)


# API keys ----------------------------------------------------------------------------------------------------
def key_auth(db: Database, key: str) -> Auth | None:
    """The user of a valid key with the key's scopes; records its use (once a minute at most)."""
    found = db.key_and_user(key)
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(seconds=60):
        with db.session() as s:
            s.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    return Auth(user, frozenset(row.scopes.split()), key=row)


def scopes_refusal(user: User, scopes: list[str]) -> str | None:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        return f"scopes must be some of {', '.join(SCOPES)} (not {', '.join(unknown) or 'none'})"
    if "admin" in scopes and user.role != "admin":
        return "only an admin's key may have the admin scope"
    return None


def create_key(db: Database, user: User, name: str, scopes: list[str], expires_at: datetime | None = None,
               ) -> tuple[ApiKey, str]:
    """A new key of ``user``; the key in clear (shown once) with its row."""
    refusal = scopes_refusal(user, scopes)
    if refusal:
        raise Invalid(refusal)
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("the expiry must be in the future")
    key = new_key()
    row = ApiKey(id=new_id(), user_id=user.id, key_hash=hash_key(key), created_at=utcnow(), name=name,
                 prefix=key[:10], scopes=" ".join(s for s in SCOPES if s in scopes), expires_at=expires_at)
    with db.session() as s:
        s.add(row)
    return row, key


def keys(db: Database, user: User) -> list[ApiKey]:
    with db.session() as s:
        return list(s.scalars(select(ApiKey).where(ApiKey.user_id == user.id)
                              .order_by(ApiKey.created_at.desc(), ApiKey.id)).all())


def _own_key(db: Database, user: User, key_id: str) -> ApiKey:
    with db.session() as s:
        row = s.scalars(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user.id)).first()
    if row is None:
        raise NotFound("no such key")
    return row


def revoke_key(db: Database, user: User, key_id: str) -> ApiKey:
    """Revoke one of ``user``'s keys (at once; revoking a revoked key changes nothing)."""
    row = _own_key(db, user, key_id)
    with db.session() as s:
        s.execute(update(ApiKey).where(ApiKey.id == row.id, ApiKey.revoked_at.is_(None))
                  .values(revoked_at=utcnow()))
    return _own_key(db, user, key_id)


def rotate_key(db: Database, user: User, key_id: str) -> tuple[ApiKey, str]:
    """A new key with the name, scopes and lifetime of ``key_id``, which is revoked; refused for a revoked one."""
    old = _own_key(db, user, key_id)
    if old.revoked_at is not None:
        raise Invalid("the key is revoked: create a new one")
    now = utcnow()
    expires = None if old.expires_at is None else now + max(old.expires_at - old.created_at, timedelta(minutes=1))
    scopes = [s for s in old.scopes.split() if s != "admin" or user.role == "admin"] or ["read"]
    row, key = create_key(db, user, old.name, scopes, expires)
    with db.session() as s:
        s.execute(update(ApiKey).where(ApiKey.id == old.id).values(revoked_at=now))
    return row, key


def key_state(row: ApiKey) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= utcnow():
        return "expired"
    return "active"


# the TOTP second factor (RFC 6238, pyotp): optional, for clinicians and admins ------------------------------------
TOTP_ROLES = ("clinician", "admin")


def _fresh(db: Database, user: User) -> User:
    with db.session() as s:
        found = s.get(User, user.id)
    if found is None:
        raise NotFound("no such user")
    return found


def totp_ok(user: User, code: str | None) -> bool:
    """Whether ``code`` is the current one-time code of ``user``'s confirmed or pending secret (±30 s)."""
    import pyotp

    code = (code or "").replace(" ", "")
    return bool(user.totp_secret and code.isdigit() and pyotp.TOTP(user.totp_secret).verify(code, valid_window=1))


def totp_begin(db: Database, user: User, issuer: str = "PoseCoach") -> tuple[str, str]:
    """Start enrolment: a new secret (pending until confirmed); the secret and its ``otpauth://`` URI."""
    import pyotp

    user = _fresh(db, user)
    if user.role not in TOTP_ROLES:
        raise Refused("one-time codes are for clinicians' and admins' accounts")
    if user.totp_enabled_at is not None:
        raise Invalid("one-time codes are on already: turn them off first to enrol another device")
    secret = pyotp.random_base32()
    with db.session() as s:
        s.execute(update(User).where(User.id == user.id).values(totp_secret=secret))
    return secret, pyotp.TOTP(secret).provisioning_uri(name=user.name, issuer_name=issuer)


def totp_confirm(db: Database, user: User, code: str) -> User:
    """Confirm enrolment with a code of the new secret; from now on sign-in asks for a code."""
    user = _fresh(db, user)
    if not user.totp_secret or user.totp_enabled_at is not None:
        raise Invalid("no enrolment to confirm: start one with POST /v1/me/totp")
    if not totp_ok(user, code):
        raise Invalid("wrong one-time code: enter the 6 digits your authenticator app shows now")
    with db.session() as s:
        s.execute(update(User).where(User.id == user.id).values(totp_enabled_at=utcnow()))
    return _fresh(db, user)


def totp_disable(db: Database, user: User, code: str | None, *, by_admin: bool = False) -> None:
    """Turn one-time codes off: with a current code, or by an admin's reset (a lost device)."""
    user = _fresh(db, user)
    if not by_admin and user.totp_enabled_at is not None and not totp_ok(user, code):
        raise Invalid("wrong one-time code")
    with db.session() as s:
        s.execute(update(User).where(User.id == user.id).values(totp_secret=None, totp_enabled_at=None))
