"""Who a request is: the one place that authenticates (the ``caller`` dependency of the routes and the live
WebSocket both come here).

Programs send an API key in the ``X-API-Key`` header; the web app's browser sends the session cookie that
``POST /v1/session`` set (an opaque token of a server-side session, never a key). A key's scopes decide what it
may do: ``read`` the safe methods (GET, HEAD) and the live socket, ``write`` every other method, ``admin`` the
account administration. A session has the scopes of its sign-in (every scope for a password's).
Wrong keys count against the client's address (`throttle`): past the limit, 429 with ``Retry-After``.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from posecoach.service import accounts_db, throttle
from posecoach.service.accounts_db import Auth
from posecoach.service.db import Database, User
from posecoach.service.settings import Settings

SESSION_COOKIE = "posecoach_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthError(Exception):
    """Not authenticated (401), not allowed by the credential's scopes (403) or throttled (429)."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers or {}


def address(conn: HTTPConnection) -> str:
    """The client's address (uvicorn puts a trusted proxy's X-Forwarded-For there)."""
    return conn.client.host if conn.client else "unknown"


def throttled(exc: throttle.Throttled) -> AuthError:
    return AuthError(429, exc.reason, {"Retry-After": str(exc.retry_after)})


def authenticate(conn: HTTPConnection, key: str | None, token: str | None) -> Auth:
    """The user and scopes of a request's API key (header), else of its session cookie; `AuthError` otherwise."""
    db: Database = conn.app.state.db
    settings: Settings = conn.app.state.settings
    if key:
        auth = accounts_db.key_auth(db, key)
        if auth is not None:
            return auth
        where = address(conn)
        try:
            throttle.check(db, settings, address=where)
        except throttle.Throttled as exc:
            raise throttled(exc) from None
        throttle.fail(db, settings, address=where)
        raise AuthError(401, "unknown, revoked or expired API key (header X-API-Key)",
                        {"WWW-Authenticate": "X-API-Key"})
    if token:
        auth = accounts_db.session_auth(db, token, settings.session_idle_s, settings.session_max_s)
        if auth is not None:
            return auth
        raise AuthError(401, "your session has ended (signed out, expired, or ended by a password change or "
                        "an administrator): sign in again", {"WWW-Authenticate": "X-API-Key"})
    raise AuthError(401, "sign in, or send a valid API key in the X-API-Key header",
                    {"WWW-Authenticate": "X-API-Key"})


def require_scope(auth: Auth, method: str) -> None:
    """Refuse (403) a request its credential's scopes do not cover: ``write`` for any method but GET/HEAD."""
    if method.upper() not in SAFE_METHODS and "write" not in auth.scopes:
        raise AuthError(403, f"this API key may only read (scopes: {' '.join(sorted(auth.scopes))}); "
                        "a key with the write scope is needed to change anything")


def connection_user(conn: HTTPConnection) -> User | None:
    """The user of a WebSocket's key or session cookie (a read is enough), None when there is none."""
    try:
        auth = authenticate(conn, conn.headers.get("x-api-key"), conn.cookies.get(SESSION_COOKIE))
    except AuthError:
        return None
    return auth.user if "read" in auth.scopes else None
