"""Routes of a job's results (report, overlay video, plots, CSV, poses) and of the history over time.

Scoped like every route: a job, result or user the caller may not read answers 404, as one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse

from posecoach.service import audit, care_db, library_db, schemas
from posecoach.service import history as history_db
from posecoach.service.routes import NOT_FOUND, Caller, _db, _job, _missing, _storage
from posecoach.service.security import content_disposition
from posecoach.service.work import MEDIA_TYPES, SUFFIXES

router = APIRouter(tags=["results"])
CONFLICT = {409: {"model": schemas.Problem}}


@router.get("/v1/jobs/{job_id}/results", response_model=list[schemas.ResultOut], responses=NOT_FOUND)
def list_results(job_id: str, user: Caller, request: Request) -> list[schemas.ResultOut]:
    """The results a job stored (none until it is done), each with its media type and where to fetch it."""
    job = _job(request, user, job_id)
    return [schemas.ResultOut(kind=r.kind, media_type=MEDIA_TYPES[r.kind],  # type: ignore[arg-type]
                              url=f"/v1/jobs/{job.id}/results/{r.kind}")
            for r in library_db.results(_db(request), job) if r.kind in MEDIA_TYPES]


@router.get("/v1/jobs/{job_id}/results/{kind}", response_class=FileResponse,
            responses={**NOT_FOUND, **CONFLICT, 206: {"description": "Part of the file (a Range request)"}})
def get_result(job_id: str, kind: schemas.ResultKind, user: Caller, request: Request) -> Response:
    """One result file; videos answer HTTP range requests, so they play and seek in a browser. 409 while the job
    is not done; 404 for a kind this job does not make."""
    job = _job(request, user, job_id)
    found = [r for r in library_db.results(_db(request), job) if r.kind == kind]
    if not found:
        if job.state != "done":
            raise HTTPException(status.HTTP_409_CONFLICT, f"the job is {job.state}: no results yet"
                                + (f" ({job.error})" if job.error else ""))
        raise _missing("result")
    try:
        answer = _storage(request).response(found[0].storage_key, MEDIA_TYPES[kind])
    except FileNotFoundError:
        raise _missing("result file") from None
    # the server made every result, so its type is known; files to save are attachments, the rest shown inline
    disposition = "attachment" if kind in ("csv", "poses") else "inline"
    answer.headers["content-disposition"] = content_disposition(disposition, f"{job.kind}-{job.id[:8]}{SUFFIXES[kind]}")
    return answer


@router.get("/v1/history", response_model=list[schemas.HistoryItem], responses=NOT_FOUND)
def history(user: Caller, request: Request,
            patient: Annotated[str | None, Query(max_length=100, description="A patient's username (a clinician's "
                                                 "patient who accepted, anyone for an admin); default: yours.")] = None,
            user_id: Annotated[str | None, Query(max_length=32, description="Deprecated: a user's id, scoped like "
                                                 "``patient``.")] = None,
            exercise: Annotated[str | None, Query(max_length=64, description="Only this exercise's entries "
                                                  "(a catalogue name, e.g. squat).")] = None,
            since: Annotated[date | None, Query(description="Only entries finished on or after this day.")] = None,
            until: Annotated[date | None, Query(description="Only entries finished on or before this day.")] = None,
            ) -> list[schemas.HistoryItem]:
    """Finished jobs and live sets, newest first, with the figures to follow over time: repetitions and form
    errors of each analysis and live set, the score of each comparison, falls detected; each job's video file
    name (``source`` upload) or ``source`` live (kind ``live``, ``job_id`` the live session's id). 422 when
    ``since`` is after ``until``."""
    if since and until and since > until:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since must not be after until")
    db = _db(request)
    owner = user_id or user.id
    if patient is not None:
        found = care_db.readable_user(db, user, patient)
        if found is None:
            raise _missing("patient")
        owner = found.id
    elif owner != user.id and not library_db.can_see_user(db, user, owner):
        raise _missing("user")
    audit.record_read(db, user, owner, "history", None, **audit.origin(request))
    return history_db.entries(db, owner, exercise or None, since, until)
