"""Routes of the reference library (guide movements) and of posture models: each is made by a job from the
caller's videos, then listed, read, used (``compare`` / ``posture`` jobs) and deleted.

A clinician's guides and models are visible to the patients who accepted their care; only the owner deletes
one. The owner is shown by username, never by id.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from posecoach.errors import InputError
from posecoach.service import library_db, quotas, schemas
from posecoach.service.db import PostureModel, ReferenceGuide, User, Video
from posecoach.service.routes import NOT_FOUND, Caller, _db, _missing, _runner, _storage, _stored, over_quota
from posecoach.service.security import video_media_type

router = APIRouter()
MADE = {**NOT_FOUND, 409: {"model": schemas.Problem}, 422: {"model": schemas.Invalid}, 429: {"model": schemas.Problem}}


def _own_video(request: Request, user: User, video_id: str) -> Video:
    video = _db(request).video(user, video_id)
    if video is None or video.owner_id != user.id:
        raise _missing("video")
    return video


def _create(request: Request, user: User, video: Video, row: Any, kind: str, params: dict[str, Any]
            ) -> library_db.Made:
    try:
        quotas.admit_job(_db(request), request.app.state.settings, user)
    except quotas.QuotaExceeded as exc:
        raise over_quota(exc) from None
    try:
        made = library_db.add_made(_db(request), user, video, row, kind, params)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    _runner(request).submit(made.row.job_id)
    return made


def _get(request: Request, user: User, model: type[Any], row_id: str, what: str) -> library_db.Made:
    made = library_db.made_row(_db(request), user, model, row_id)
    if made is None:
        raise _missing(what)
    return made


def _delete(request: Request, user: User, model: type[Any], row_id: str, what: str) -> Response:
    keys = library_db.delete_made(_db(request), user, model, row_id)
    if keys is None:
        raise _missing(what)
    for key in keys:
        _storage(request).delete(key)
    return Response(status_code=204)


def _reference(made: library_db.Made) -> schemas.ReferenceOut:
    r = made.row
    guide = json.loads(r.guide)
    return schemas.ReferenceOut(id=r.id, owner=made.owner, name=r.name, job_id=r.job_id, state=made.state,
                                error=made.error, created_at=r.created_at, video_id=r.video_id,
                                description=guide.get("description", ""), joints=guide.get("joints", []),
                                reps=guide.get("reps"), target_reps=guide.get("target_reps"),
                                hold_s=guide.get("hold_s"), frames=r.frames, duration_s=r.duration_s)


def _posture_model(made: library_db.Made) -> schemas.PostureModelOut:
    m = made.row
    return schemas.PostureModelOut(id=m.id, owner=made.owner, name=m.name, job_id=m.job_id, state=made.state,
                                   error=made.error, created_at=m.created_at, classes=json.loads(m.classes),
                                   algorithm=m.algorithm, cv_accuracy=m.cv_accuracy, frames=m.frames)


@router.post("/v1/references", response_model=schemas.ReferenceOut, status_code=202, tags=["references"],
             responses=MADE)
def create_reference(body: schemas.ReferenceCreate, user: Caller, request: Request) -> schemas.ReferenceOut:
    """Add a guide made from one of your videos (poses estimated by a job of kind ``reference``; its ``state``
    is ``ready`` when done). 409 if you have a guide of that name."""
    from posecoach.references import make_guide

    video = _own_video(request, user, body.video_id)
    try:
        guide = make_guide(body.name, description=body.description, joints=body.joints, reps=body.reps,
                           target_reps=body.target_reps, hold_s=body.hold_s)
    except InputError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    row = ReferenceGuide(name=body.name, guide=guide.model_dump_json(), video_id=video.id)
    return _reference(_create(request, user, video, row, "reference", {}))


@router.get("/v1/references", response_model=list[schemas.ReferenceOut], tags=["references"])
def list_references(user: Caller, request: Request) -> list[schemas.ReferenceOut]:
    """Your guides and your clinicians' (a clinician: theirs and their patients'), newest first."""
    return [_reference(m) for m in library_db.made_rows(_db(request), user, ReferenceGuide)]


@router.get("/v1/references/{reference_id}", response_model=schemas.ReferenceOut, tags=["references"],
            responses=NOT_FOUND)
def get_reference(reference_id: str, user: Caller, request: Request) -> schemas.ReferenceOut:
    return _reference(_get(request, user, ReferenceGuide, reference_id, "reference"))


@router.get("/v1/references/{reference_id}/video", tags=["references"], responses=NOT_FOUND)
def reference_video(reference_id: str, user: Caller, request: Request) -> Response:
    """The video a guide was made from, to play beside the camera while following it: for whoever may read the
    guide (its owner, their patients with consent). 404 when the guide is not found (deleting a video deletes the
    guides made from it)."""
    made = _get(request, user, ReferenceGuide, reference_id, "reference")
    video = library_db.load_row(_db(request), Video, made.row.video_id) if made.row.video_id else None
    if video is None:
        raise _missing("guide video")
    return _stored(request, video.storage_key, "guide video", video_media_type(video.storage_key))


@router.delete("/v1/references/{reference_id}", status_code=204, tags=["references"], responses=NOT_FOUND)
def delete_reference(reference_id: str, user: Caller, request: Request) -> Response:
    """Delete one of your guides (jobs that compared with it keep their results)."""
    return _delete(request, user, ReferenceGuide, reference_id, "reference")


@router.post("/v1/posture-models", response_model=schemas.PostureModelOut, status_code=202,
             tags=["posture models"], responses=MADE)
def create_posture_model(body: schemas.PostureModelCreate, user: Caller, request: Request
                         ) -> schemas.PostureModelOut:
    """Train a posture classifier on labelled time ranges of your videos (a job of kind ``posture_train``;
    ``state`` is ``ready`` when trained). Needs at least two postures; 409 if you have a model of that name."""
    videos = [_own_video(request, user, item.video_id) for item in body.videos]
    labels = {r.label for item in body.videos for r in item.ranges}
    if len(labels) < 2:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"a posture model needs ranges of at least 2 postures; got {', '.join(labels)}")
    params = {"algorithm": body.algorithm, "items": [item.model_dump() for item in body.videos]}
    row = PostureModel(name=body.name, classes=json.dumps(sorted(labels)))
    return _posture_model(_create(request, user, videos[0], row, "posture_train", params))


@router.get("/v1/posture-models", response_model=list[schemas.PostureModelOut], tags=["posture models"])
def list_posture_models(user: Caller, request: Request) -> list[schemas.PostureModelOut]:
    """Your posture models and your clinicians' (a clinician: theirs and their patients'), newest first."""
    return [_posture_model(m) for m in library_db.made_rows(_db(request), user, PostureModel)]


@router.get("/v1/posture-models/{model_id}", response_model=schemas.PostureModelOut, tags=["posture models"],
            responses=NOT_FOUND)
def get_posture_model(model_id: str, user: Caller, request: Request) -> schemas.PostureModelOut:
    return _posture_model(_get(request, user, PostureModel, model_id, "posture model"))


@router.delete("/v1/posture-models/{model_id}", status_code=204, tags=["posture models"], responses=NOT_FOUND)
def delete_posture_model(model_id: str, user: Caller, request: Request) -> Response:
    """Delete one of your posture models."""
    return _delete(request, user, PostureModel, model_id, "posture model")
