"""The queries of results, history, the reference library and posture models (the tables of migration 0003).

Kept beside `db.py` (which holds the models and the core queries) as functions of a `Database`; every read is
scoped to the caller like the core queries: another user's id is simply not found. A clinician's guides and
posture models are shared with the patients who accepted their care (and an admin sees all).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from posecoach.errors import InputError
from posecoach.service.db import (
    ACCEPTED,
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    CareLink,
    Database,
    Job,
    PostureModel,
    ReferenceGuide,
    Result,
    User,
    Video,
    new_id,
    utcnow,
)

Row = TypeVar("Row", ReferenceGuide, PostureModel)
READY = "ready"


@dataclass(frozen=True)
class Made:
    """A library row (guide or posture model) with the state of the job that makes it."""

    row: Any
    state: str  # queued / running / ready / failed
    error: str | None
    owner: str  # the owner's username (their id is never shown to others)


def shared_owners(s: Session, db: Database, user: User) -> list[str] | None:
    """Whose library rows ``user`` may read: `Database.visible_owners` plus the clinicians whose care ``user``
    accepted."""
    owners = db.visible_owners(s, user)
    if owners is None:
        return None
    return owners + list(s.scalars(select(CareLink.clinician_id).where(CareLink.patient_id == user.id,
                                                                       CareLink.state == ACCEPTED)).all())


# results -----------------------------------------------------------------------------------------------------
def finish_job(db: Database, job_id: str, results: list[Result],
               after: Callable[[Session], None] | None = None) -> bool:
    """Store a job's results, run ``after`` (e.g. mark a guide ready) and mark the job done, in one transaction;
    False (nothing stored) when another worker stored them first, or the job is not running any more (cancelled,
    deleted with its video)."""
    try:
        with db.session() as s:
            s.add_all(results)
            s.flush()
            if after is not None:
                after(s)
            if s.execute(update(Job).where(Job.id == job_id, Job.state == RUNNING)
                         .values(state=DONE, progress=1.0, finished_at=utcnow(), error=None)).rowcount != 1:
                raise _NotRunning
    except (IntegrityError, _NotRunning):
        return False
    return True


class _NotRunning(Exception):
    """Rolls back `finish_job` when the job is no longer running."""


def results(db: Database, job: Job) -> list[Result]:
    with db.session() as s:
        return list(s.scalars(select(Result).where(Result.job_id == job.id).order_by(Result.kind)).all())


def stored_poses(db: Database, video_id: str) -> str | None:
    """The storage key of poses a finished job already estimated for ``video_id`` (reused, not estimated again)."""
    with db.session() as s:
        return s.scalars(select(Result.storage_key).join(Job, Job.id == Result.job_id)
                         .where(Job.video_id == video_id, Job.state == DONE, Result.kind == "poses")
                         .order_by(Result.created_at)).first()


def can_see_user(db: Database, user: User, user_id: str) -> bool:
    """``user`` may read the rows of ``user_id``: themself, a linked patient, anyone for an admin."""
    with db.session() as s:
        owners = db.visible_owners(s, user)
        return s.get(User, user_id) is not None and (owners is None or user_id in owners)


def history(db: Database, owner_id: str) -> list[tuple[Job, Result]]:
    """The finished jobs of ``owner_id`` with their report (its summary figures), newest first."""
    with db.session() as s:
        query = (select(Job, Result).join(Result, Result.job_id == Job.id)
                 .where(Job.owner_id == owner_id, Job.state == DONE, Result.kind == "report")
                 .order_by(Job.finished_at.desc()))
        return [(j, r) for j, r in s.execute(query).all()]


# the library: guides and posture models ----------------------------------------------------------------------
def add_made(db: Database, user: User, video: Video, row: Row, kind: str, params: dict[str, Any]) -> Made:
    """Store a new library row and the job (``kind`` on ``video``) that makes it; ValueError if the caller has
    one of that name already."""
    job = Job(id=new_id(), owner_id=user.id, video_id=video.id, kind=kind, params=json.dumps(params), state=QUEUED,
              progress=0.0, attempts=0, created_at=utcnow())
    row.id, row.owner_id, row.job_id, row.created_at = new_id(), user.id, job.id, utcnow()
    job.params = json.dumps({**params, "target_id": row.id})
    try:
        with db.session() as s:
            s.add(job)
            s.flush()
            s.add(row)
    except IntegrityError:
        raise ValueError(f"you have one called {row.name!r} already") from None
    return Made(row, QUEUED, None, user.name)


def add_ready_guide(db: Database, owner_id: str, guide_json: str, storage_key: str, frames: int, duration_s: float,
                    video_id: str | None = None) -> str:
    """A guide whose poses are stored already (``storage_key``), ready at once, with no job: for an import and for
    benchmarks and tests that follow a guide live. Its id; ValueError if the owner has one of that name."""
    name = json.loads(guide_json)["name"]
    row = ReferenceGuide(id=new_id(), owner_id=owner_id, name=name, guide=guide_json, storage_key=storage_key,
                         frames=frames, duration_s=duration_s, video_id=video_id, created_at=utcnow())
    try:
        with db.session() as s:
            s.add(row)
    except IntegrityError:
        raise ValueError(f"there is a guide called {name!r} already") from None
    return row.id


def _made(s: Session, model: type[Row], query: Any) -> list[Made]:
    out = []
    for row, state, error, owner in s.execute(query.add_columns(Job.state, Job.error, User.name)
                                              .outerjoin(Job, Job.id == model.job_id)
                                              .join(User, User.id == model.owner_id)).all():
        if row.storage_key is not None:
            out.append(Made(row, READY, None, owner))
        else:
            out.append(Made(row, state or FAILED, error if state else "its job was deleted with its video", owner))
    return out


def made_rows(db: Database, user: User, model: type[Row], row_id: str | None = None) -> list[Made]:
    """The library rows of ``model`` the caller may read (one, by id, when ``row_id`` is given), newest first."""
    with db.session() as s:
        owners = shared_owners(s, db, user)
        query = select(model)
        if owners is not None:
            query = query.where(model.owner_id.in_(owners))
        if row_id is not None:
            query = query.where(model.id == row_id)
        return _made(s, model, query.order_by(model.created_at.desc()))


def made_row(db: Database, user: User, model: type[Row], row_id: str) -> Made | None:
    found = made_rows(db, user, model, row_id)
    return found[0] if found else None


def delete_made(db: Database, user: User, model: type[Row], row_id: str) -> list[str] | None:
    """Delete a library row the caller owns; the storage keys to remove (maybe none), or None if not theirs."""
    with db.session() as s:
        row = s.scalars(select(model).where(model.id == row_id, model.owner_id == user.id)).first()
        if row is None:
            return None
        s.delete(row)
        return [row.storage_key] if row.storage_key else []


def load_row(db: Database, model: type[Any], row_id: str) -> Any:
    """A row (guide, posture model, video) by id, unscoped: for the worker running a job that the caller was
    allowed to create (the route checked the ids against the caller)."""
    with db.session() as s:
        return s.get(model, row_id)


def complete(model: type[Row], row_id: str, **values: Any) -> Callable[[Session], None]:
    """The `finish_job` step that makes a library row ready (its storage key and figures)."""
    def apply(s: Session) -> None:
        if s.execute(update(model).where(model.id == row_id).values(**values)).rowcount != 1:
            raise InputError("it was deleted while it was being made")
    return apply
