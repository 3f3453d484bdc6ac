"""A job request (`schemas.JobCreate`, one model per kind) -> the parameters stored with the job, checked
against the catalogue and the caller's library: an unknown exercise or posture is 422, another user's (or a
missing) reference or posture model is 404, one still being made is 409, each with the reason."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status

from posecoach.errors import InputError
from posecoach.service import library_db, schemas
from posecoach.service.db import Database, PostureModel, ReferenceGuide, User


def _ready(db: Database, user: User, model: type[Any], row_id: str, what: str) -> library_db.Made:
    made = library_db.made_row(db, user, model, row_id)
    if made is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such {what}")
    if made.state != library_db.READY:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the {what} is {made.state}, not ready"
                            + (f" ({made.error})" if made.error else ""))
    return made


def job_params(db: Database, user: User, body: schemas.JobCreate) -> dict[str, Any]:
    """The stored parameters of a valid request; an HTTPException with the reason otherwise."""
    params = body.model_dump(exclude={"video_id", "kind"}, exclude_none=True)
    if isinstance(body, schemas.AnalyzeJob) and body.exercise is not None:
        params.pop("exercise")
        if body.exercise.strip().lower() not in ("auto", ""):
            from posecoach.analysis.exercises import get_exercise

            try:
                params["exercise"] = get_exercise(body.exercise).name
            except InputError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    elif isinstance(body, schemas.CompareJob):
        _ready(db, user, ReferenceGuide, body.reference_id, "reference")
    elif isinstance(body, schemas.PostureJob):
        import json

        made = _ready(db, user, PostureModel, body.model_id, "posture model")
        known = json.loads(made.row.classes)
        unknown = [c for c in body.count or [] if c not in known]
        if unknown or (body.count and body.count[0] == body.count[1]):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "count: name two different postures of "
                                f"the model; it knows {', '.join(known)}")
    return params
