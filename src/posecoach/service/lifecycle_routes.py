"""Routes of the data lifecycle and the audit log: deleting a job's results or a whole account (a video is
deleted by ``DELETE /v1/videos/{id}``, which uses the same `lifecycle` code), and reading the audit log.

Deleting removes every row and stored file of what is deleted (`lifecycle`), and is recorded in the audit log.
The admin reads the whole audit log; every user reads the events about their own data and their own actions
(``GET /v1/me/audit``): which clinician read which of their videos and results, and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from posecoach.service import audit, lifecycle, schemas
from posecoach.service.db import User
from posecoach.service.routes import NOT_FOUND, Caller, _db, _missing, _storage

router = APIRouter()
REFUSED = {409: {"model": schemas.Problem}}


def address(request: Request) -> str | None:
    return request.client.host if request.client else None


class AuditEventOut(BaseModel):
    """One audit event. ``actor`` and ``subject`` are usernames as they were then (the account may be gone);
    the user ids and the client address are shown to the admin only."""

    id: str
    at: schemas.Time
    action: str = Field(description="read, delete, care.invite / care.accept / care.end, sign_in, "
                        "sign_in.failed, sign_out, retention")
    actor: str | None = Field(description="who did it (none: the service itself, e.g. retention)")
    subject: str | None = Field(description="whose data it is about")
    object_type: str | None = Field(description="video, job, user, results, history, care_link...")
    object_id: str | None
    detail: str | None
    actor_id: str | None = None
    subject_id: str | None = None
    address: str | None = None


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next_before: str | None = Field(description="pass as ?before= for the next, older page; null: no more")


def _page(page: audit.Page, admin: bool) -> AuditPage:
    out = []
    for e in page.events:
        item = AuditEventOut(id=e.id, at=e.at, action=e.action, actor=e.actor_name, subject=e.subject_name,
                             object_type=e.object_type, object_id=e.object_id, detail=e.detail)
        if admin:
            item.actor_id, item.subject_id, item.address = e.actor_id, e.subject_id, e.address
        out.append(item)
    return AuditPage(events=out, next_before=page.next_before)


Limit = Annotated[int, Query(ge=1, le=500, description="events per page")]
Before = Annotated[str | None, Query(max_length=32, description="the next_before of the previous page")]
Action = Annotated[str | None, Query(max_length=32, description="only this action")]


@router.get("/v1/audit", response_model=AuditPage, tags=["audit"], responses={403: {"model": schemas.Problem}})
def audit_log(user: Caller, request: Request, limit: Limit = 50, before: Before = None, action: Action = None,
              who: Annotated[str | None, Query(alias="user", max_length=100,
                                               description="a username, as actor or subject")] = None,
              since: datetime | None = None, until: datetime | None = None) -> AuditPage:
    """The audit log, newest first (admins only): who read or changed whose data, deletions, care links,
    sign-ins. Filters: ``user``, ``action``, ``since``, ``until`` (UTC); paging: ``limit``, ``before``."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin reads the whole audit log; "
                            "GET /v1/me/audit shows the events about your data")
    page = audit.events(_db(request), name=who, action=action, since=_naive(since), until=_naive(until),
                        before=before, limit=limit)
    return _page(page, admin=True)


@router.get("/v1/me/audit", response_model=AuditPage, tags=["audit"])
def my_audit_log(user: Caller, request: Request, limit: Limit = 50, before: Before = None,
                 action: Action = None) -> AuditPage:
    """The events about your data and your account, newest first: who (your clinicians, an admin) read which of
    your videos, results and history, and when; deletions; care links; your sign-ins."""
    return _page(audit.events(_db(request), involving=user.id, action=action, before=before, limit=limit),
                 admin=False)


def _naive(at: datetime | None) -> datetime | None:
    """A time in naive UTC, as stored."""
    if at is None or at.tzinfo is None:
        return at
    return (at - at.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]


@router.delete("/v1/jobs/{job_id}/results", status_code=204, tags=["results"], responses={**NOT_FOUND, **REFUSED})
def delete_job_results(job_id: str, user: Caller, request: Request) -> Response:
    """Delete one of your finished (or failed) jobs with its results and everything its attempts stored. 409
    while it is queued or running: cancel it first."""
    try:
        found = lifecycle.delete_job(_db(request), _storage(request), user, job_id, address(request))
    except lifecycle.Refused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if not found:
        raise _missing("job")
    return Response(status_code=204)


def _delete_account(request: Request, actor: User, target: User) -> Response:
    try:
        lifecycle.delete_user(_db(request), _storage(request), actor, target.id, address(request))
    except lifecycle.Refused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return Response(status_code=204)


@router.delete("/v1/me", status_code=204, tags=["users"],
               responses={**REFUSED, 422: {"model": schemas.Invalid}})
def delete_me(user: Caller, request: Request,
              confirm: Annotated[str, Query(max_length=100, description="your username, to confirm")]) -> Response:
    """Delete your account and all its data for good: videos, jobs, results, guides, posture models, keys,
    sessions and care links. ``?confirm=`` must be your username. 409 for the last admin."""
    if confirm != user.name:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "to delete your account, pass your username as ?confirm=")
    response = _delete_account(request, user, user)
    for cookie in ("posecoach_key", "posecoach_session"):
        response.delete_cookie(cookie, path="/")
    return response


@router.delete("/v1/users/{user}", status_code=204, tags=["users"],
               responses={403: {"model": schemas.Problem}, **NOT_FOUND, **REFUSED})
def delete_user(user: str, caller: Caller, request: Request) -> Response:
    """Delete an account (by username or id) and all its data (admins only). 409 for the last admin."""
    if caller.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin deletes other accounts")
    with _db(request).session() as s:
        target = s.scalars(select(User).where(or_(User.name == user, User.id == user))).first()
    if target is None:
        raise _missing("user")
    return _delete_account(request, caller, target)
