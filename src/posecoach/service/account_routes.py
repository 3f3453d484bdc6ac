"""The account routes: sign-in and sign-out (server-side sessions), one's password, one-time codes and API keys,
and the admin's account administration (list, add, disable, enable, reset). `auth` authenticates; the queries
are in `accounts_db`, the throttling of failed sign-ins in `throttle`; sign-ins are written to the audit log."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from posecoach.service import account_schemas as s
from posecoach.service import accounts_db, audit, schemas, throttle
from posecoach.service.accounts_db import Auth
from posecoach.service.auth import SESSION_COOKIE, address, throttled
from posecoach.service.db import ApiKey, User, utcnow
from posecoach.service.routes import NOT_FOUND, Caller, _db, _settings

router = APIRouter()
PROBLEMS = {code: {"model": schemas.Problem} for code in (403, 404, 409, 422)}
SIGN_IN_ANSWERS = {401: {"model": schemas.Problem}, 429: {"model": schemas.Problem,
                                                           "description": "Too many failed sign-ins"}}


def _auth(request: Request) -> Auth:
    return request.state.auth  # type: ignore[no-any-return]


def admin(user: Caller, request: Request) -> User:
    """The caller, when an admin whose key (or session) has the admin scope; 403 otherwise."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin can manage accounts")
    if "admin" not in _auth(request).scopes:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this API key lacks the admin scope")
    return user


Admin = Annotated[User, Depends(admin)]


def _error(exc: Exception) -> HTTPException:
    code = {accounts_db.NotFound: 404, accounts_db.Refused: 403, accounts_db.Invalid: 422}[type(exc)]
    return HTTPException(code, str(exc))


def _check_password(request: Request, password: str, name: str) -> None:
    refusal = accounts_db.password_refusal(password, _settings(request).password_min_length, name)
    if refusal:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, refusal)


def _account(user: User) -> s.Account:
    return s.Account(name=user.name, role=user.role, created_at=user.created_at,  # type: ignore[arg-type]
                     disabled=user.disabled_at is not None, password=bool(user.password_hash),
                     totp=user.totp_enabled_at is not None)


def _key(row: ApiKey) -> s.KeyOut:
    return s.KeyOut(id=row.id, name=row.name, prefix=row.prefix, scopes=row.scopes.split(),  # type: ignore[arg-type]
                    state=accounts_db.key_state(row), created_at=row.created_at,  # type: ignore[arg-type]
                    expires_at=row.expires_at, last_used_at=row.last_used_at,  # type: ignore[arg-type]
                    revoked_at=row.revoked_at)  # type: ignore[arg-type]


# signing in and out ----------------------------------------------------------------------------------------------
def _refuse_sign_in(request: Request, name: str | None, reason: str, detail: str) -> HTTPException:
    db, where = _db(request), address(request)
    throttle.fail(db, _settings(request), account=name, address=where)
    audit.record(db, audit.SIGN_IN_FAILED, actor_name=name, address=where, detail=detail)
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason)


@router.post("/v1/session", response_model=schemas.UserOut, tags=["users"], responses=SIGN_IN_ANSWERS)
def sign_in(body: schemas.SignIn, request: Request, response: Response) -> User:
    """Sign in to the web app with a username and password (plus ``totp``, the one-time code, when the account
    has them on), or an API key. Starts a server-side session whose random token is set as an HttpOnly,
    SameSite=Strict cookie; it ends after ``POSECOACH_SESSION_IDLE_S`` unused, ``POSECOACH_SESSION_MAX_S`` after
    sign-in, or at sign-out. 401 for wrong credentials; 429 with ``Retry-After`` after too many failures for
    the account or from your address."""
    db, settings, where = _db(request), _settings(request), address(request)
    name = body.username if body.api_key is None else None
    try:
        throttle.check(db, settings, account=name, address=where)
    except throttle.Throttled as exc:
        error = throttled(exc)
        raise HTTPException(error.status, error.reason, headers=error.headers) from None
    if body.api_key is not None:
        found = accounts_db.key_auth(db, body.api_key)
        if found is None:
            raise _refuse_sign_in(request, None, "unknown, revoked or expired API key", "wrong API key")
        user, scopes = found.user, " ".join(sorted(found.scopes))
    else:
        assert body.username is not None and body.password is not None  # the schema's check
        user = accounts_db.check_password(db, body.username, body.password)  # type: ignore[assignment]
        if user is None:
            raise _refuse_sign_in(request, name, "wrong username or password", "wrong password")
        scopes = accounts_db.FULL_SCOPES
    if user.totp_enabled_at is not None and not accounts_db.totp_ok(user, body.totp):
        if not body.totp:  # the password was right: ask for the code (not a failure)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this account needs a one-time code: enter the "
                                "6 digits your authenticator app shows")
        raise _refuse_sign_in(request, user.name, "wrong one-time code", "wrong one-time code")
    throttle.forgive(db, user.name)
    token = accounts_db.start_session(db, user, scopes, where)
    audit.record(db, audit.SIGN_IN, actor=user, address=where, detail="api key" if body.api_key else "password")
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=int(settings.session_max_s))
    return user


@router.delete("/v1/session", status_code=204, tags=["users"])
def sign_out(request: Request) -> Response:
    """Sign out of the web app: the session ends on the server (its cookie no longer works anywhere)."""
    token = request.cookies.get(SESSION_COOKIE)
    user = accounts_db.end_session(_db(request), token) if token else None
    if user is not None:
        audit.record(_db(request), audit.SIGN_OUT, actor=user, address=address(request))
    answer = Response(status_code=204)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer


@router.delete("/v1/me/sessions", status_code=204, tags=["users"])
def sign_out_everywhere(user: Caller, request: Request) -> Response:
    """End every session of yours, this one included (e.g. after using a shared computer)."""
    accounts_db.end_sessions(_db(request), user)
    return Response(status_code=204)


# your account ----------------------------------------------------------------------------------------------------
@router.get("/v1/me/account", response_model=s.Account, tags=["users"])
def my_account(user: Caller) -> s.Account:
    """Your account: whether a password is set and one-time codes are on."""
    return _account(user)


@router.put("/v1/me/password", status_code=204, tags=["users"], responses={**PROBLEMS, **SIGN_IN_ANSWERS})
def change_password(body: s.PasswordChange, user: Caller, request: Request) -> Response:
    """Set or change your password (the current one is needed when there is one). Your other sessions end."""
    db, settings, where = _db(request), _settings(request), address(request)
    if user.password_hash:  # a guess of the current password counts like a failed sign-in
        try:
            throttle.check(db, settings, account=user.name, address=where)
        except throttle.Throttled as exc:
            error = throttled(exc)
            raise HTTPException(error.status, error.reason, headers=error.headers) from None
        if not body.current_password or accounts_db.check_password(db, user.name, body.current_password) is None:
            throttle.fail(db, settings, account=user.name, address=where)
            raise HTTPException(status.HTTP_403_FORBIDDEN, "the current password is wrong")
    _check_password(request, body.new_password, user.name)
    current = _auth(request).session
    accounts_db.set_password(db, user, accounts_db.hash_password(body.new_password),
                             keep_session=current.id if current else None)
    return Response(status_code=204)


@router.post("/v1/me/totp", response_model=s.TotpEnrolment, status_code=201, tags=["users"], responses=PROBLEMS)
def enrol_totp(user: Caller, request: Request) -> s.TotpEnrolment:
    """Start using one-time codes (clinicians and admins): a new secret for an authenticator app. Nothing changes
    until it is confirmed with a code (``POST /v1/me/totp/confirm``)."""
    try:
        secret, uri = accounts_db.totp_begin(_db(request), user)
    except (accounts_db.Refused, accounts_db.Invalid) as exc:
        raise _error(exc) from None
    return s.TotpEnrolment(secret=secret, otpauth_uri=uri)


@router.post("/v1/me/totp/confirm", response_model=s.Account, tags=["users"], responses=PROBLEMS)
def confirm_totp(body: s.TotpCode, user: Caller, request: Request) -> s.Account:
    """Confirm the enrolment with the code the app shows: from now on sign-in asks for a code."""
    try:
        return _account(accounts_db.totp_confirm(_db(request), user, body.code))
    except accounts_db.Invalid as exc:
        raise _error(exc) from None


@router.post("/v1/me/totp/disable", status_code=204, tags=["users"], responses=PROBLEMS)
def disable_totp(body: s.TotpOff, user: Caller, request: Request) -> Response:
    """Stop using one-time codes (with a current code)."""
    try:
        accounts_db.totp_disable(_db(request), user, body.code)
    except accounts_db.Invalid as exc:
        raise _error(exc) from None
    return Response(status_code=204)


# API keys --------------------------------------------------------------------------------------------------------
@router.get("/v1/keys", response_model=list[s.KeyOut], tags=["keys"])
def list_keys(user: Caller, request: Request) -> list[s.KeyOut]:
    """Your API keys, newest first: name, first characters, scopes, state, expiry, last use (never the key)."""
    return [_key(row) for row in accounts_db.keys(_db(request), user)]


@router.post("/v1/keys", response_model=s.NewKey, status_code=201, tags=["keys"], responses=PROBLEMS)
def create_key(body: s.KeyCreate, user: Caller, request: Request) -> s.NewKey:
    """A new API key for a program (shown in this answer only). ``scopes``: ``read`` (GET and the live socket),
    ``write`` (anything that changes data), ``admin`` (account administration; admins only). A key cannot make
    a key with scopes it lacks itself."""
    if not set(body.scopes) <= _auth(request).scopes:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a key cannot create a key with scopes it lacks itself")
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    try:
        row, key = accounts_db.create_key(_db(request), user, body.name, list(body.scopes), expires)
    except accounts_db.Invalid as exc:
        raise _error(exc) from None
    return s.NewKey(key=_key(row), api_key=key)


@router.delete("/v1/keys/{key_id}", status_code=204, tags=["keys"], responses=NOT_FOUND)
def revoke_key(key_id: str, user: Caller, request: Request) -> Response:
    """Revoke one of your keys: it stops working at once."""
    try:
        accounts_db.revoke_key(_db(request), user, key_id)
    except accounts_db.NotFound as exc:
        raise _error(exc) from None
    return Response(status_code=204)


@router.post("/v1/keys/{key_id}/rotate", response_model=s.NewKey, status_code=201, tags=["keys"],
             responses=PROBLEMS)
def rotate_key(key_id: str, user: Caller, request: Request) -> s.NewKey:
    """Replace one of your keys: a new key with its name, scopes and lifetime (shown once); the old one is
    revoked at once."""
    try:
        row, key = accounts_db.rotate_key(_db(request), user, key_id)
    except (accounts_db.NotFound, accounts_db.Invalid) as exc:
        raise _error(exc) from None
    return s.NewKey(key=_key(row), api_key=key)


# account administration (admins) ---------------------------------------------------------------------------------
@router.get("/v1/users", response_model=list[s.Account], tags=["users"], responses=PROBLEMS)
def list_users(_: Admin, request: Request) -> list[s.Account]:
    """Every account, by name (admins)."""
    return [_account(u) for u in accounts_db.users(_db(request))]


@router.post("/v1/users", response_model=schemas.NewUser, status_code=201, tags=["users"], responses=PROBLEMS)
def create_user(body: schemas.UserCreate, _: Admin, request: Request) -> schemas.NewUser:
    """Create an account (admins), with a password when given, and its first API key (every scope; shown in
    this answer only)."""
    if body.password is not None:
        _check_password(request, body.password, body.name)
    hashed = accounts_db.hash_password(body.password) if body.password is not None else None
    try:
        new, key = _db(request).create_user(body.name, body.role, password_hash=hashed)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return schemas.NewUser(user=schemas.NewUserOut.model_validate(new), api_key=key)


def _set_disabled(request: Request, me: User, name: str, disabled: bool) -> s.Account:
    if disabled and name == me.name:
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot disable your own account")
    try:
        return _account(accounts_db.set_disabled(_db(request), name, disabled))
    except accounts_db.NotFound as exc:
        raise _error(exc) from None


@router.post("/v1/users/{name}/disable", response_model=s.Account, tags=["users"], responses=PROBLEMS)
def disable_user(name: str, me: Admin, request: Request) -> s.Account:
    """Disable an account (admins): its sessions end and its keys stop working until it is enabled again."""
    return _set_disabled(request, me, name, True)


@router.post("/v1/users/{name}/enable", response_model=s.Account, tags=["users"], responses=PROBLEMS)
def enable_user(name: str, me: Admin, request: Request) -> s.Account:
    """Enable a disabled account again (admins)."""
    return _set_disabled(request, me, name, False)


@router.post("/v1/users/{name}/reset", response_model=s.ResetDone, tags=["users"], responses=PROBLEMS)
def reset_user(name: str, body: s.PasswordReset, _: Admin, request: Request) -> s.ResetDone:
    """Reset an account's password (admins); a password is made when none is given (shown once). The account's
    sessions end; ``clear_totp`` also turns off its one-time codes (a lost device)."""
    db = _db(request)
    try:
        user = accounts_db.user_named(db, name)
    except accounts_db.NotFound as exc:
        raise _error(exc) from None
    made = None if body.password is not None else secrets.token_urlsafe(12)
    password = body.password if body.password is not None else made
    assert password is not None
    _check_password(request, password, name)
    accounts_db.set_password(db, user, accounts_db.hash_password(password))
    if body.clear_totp:
        accounts_db.totp_disable(db, user, None, by_admin=True)
    return s.ResetDone(user=_account(accounts_db.user_named(db, name)), password=made)
