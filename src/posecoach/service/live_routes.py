"""Routes of the finished live sets kept in History (`live_db`; saved by the live socket's ``finish``,
`posecoach.service.live`): read one (its repetitions and form issues), delete one of yours.

Scoped like every route: a live set the caller may not read answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, Field

from posecoach.service import audit, live_db
from posecoach.service.routes import NOT_FOUND, Caller, _db, _missing
from posecoach.service.schemas import Time

router = APIRouter(tags=["results"])
LiveId = Annotated[str, Path(max_length=32, description="the live session's id (History's ``job_id``)")]


class LiveError(BaseModel):
    title: str
    cue: str
    severity: str


class LiveRep(BaseModel):
    index: int
    start_s: float = Field(description="seconds since the set started")
    end_s: float
    duration_s: float = Field(description="the repetition's tempo: how long it took")
    errors: list[LiveError] = Field(description="form rules broken in this repetition")
    score: float | None = Field(None, description="a set following a guide: the repetition's 0-100 against it")
    deviation: str | None = Field(None, description="a set following a guide: its main deviation, in words")


class LiveSessionOut(BaseModel):
    id: str
    owner: str = Field(description="the user's id")
    source: str = "live"
    exercise: str | None = Field(description="catalogue name; None when it was not recognised")
    title: str
    rep_count: int
    rep_confidence: float | None = Field(description="how far the count can be trusted, 0-1 (under 0.5: unsure)")
    error_count: int
    hold_s: float | None = Field(description="seconds held, for a hold exercise")
    target: int | None = Field(description="the repetitions the set aimed at, if a target was set")
    duration_s: float
    reps: list[LiveRep]
    started_at: Time
    finished_at: Time


def _out(row: live_db.LiveRecord) -> LiveSessionOut:
    return LiveSessionOut(id=row.id, owner=row.owner_id, exercise=row.exercise, title=row.title,
                          rep_count=row.rep_count, rep_confidence=row.rep_confidence, error_count=row.error_count,
                          hold_s=row.hold_s, target=row.target, duration_s=row.duration_s,
                          reps=[LiveRep(**r) for r in row.rep_items()],
                          started_at=row.started_at, finished_at=row.finished_at)


@router.get("/v1/live-sessions/{live_id}", response_model=LiveSessionOut, responses=NOT_FOUND)
def get_live_session(live_id: LiveId, user: Caller, request: Request) -> LiveSessionOut:
    """A finished live set: its count, form issues per repetition and tempo, target and duration."""
    db = _db(request)
    row = live_db.record(db, user, live_id)
    if row is None:
        raise _missing("live session")
    audit.record_read(db, user, row.owner_id, "live_session", row.id, **audit.origin(request))
    return _out(row)


@router.delete("/v1/live-sessions/{live_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_live_session(live_id: LiveId, user: Caller, request: Request) -> Response:
    """Delete one of your live sets from History (404 for one that is not yours)."""
    if not live_db.delete(_db(request), user, live_id, audit.origin(request).get("address")):
        raise _missing("live session")
    return Response(status_code=status.HTTP_204_NO_CONTENT)

