"""Posture models as a tool: the videos a model was trained on (each with its held-out accuracy), one more
labelled video added to a model (trained again on all of them), and a model run on one of your videos.

The model's training set is the ``items`` of the ``posture_train`` job that made its current file
(``PostureModel.job_id``), and its per-video accuracy that job's ``training`` summary (`posture_training`): no
table of their own. Scoped like the library: a model you may not read is 404, one you may read but do not own
(your clinician's) is 404 to change.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import select

from posecoach.service import library_db, quotas, schemas
from posecoach.service.db import QUEUED, RUNNING, Job, PostureModel, Result, User, Video
from posecoach.service.posture_schemas import HeldOut, ModelVideoAdd, ModelVideoOut, ModelVideosOut, PostureRunCreate
from posecoach.service.posture_training import TRAINING
from posecoach.service.routes import NOT_FOUND, Caller, _db, _missing, _runner, _storage, create_job, over_quota

router = APIRouter(tags=["posture models"])
Body = TypeVar("Body", ModelVideoAdd, PostureRunCreate)
MAX_VIDEOS = 50  # as many as a new model may be trained on (`schemas.PostureModelCreate`)
JOB_ERRORS = {
    **NOT_FOUND,
    409: {"model": schemas.Problem},
    422: {"model": schemas.Invalid},
    429: {"model": schemas.Problem},
}


def _model(request: Request, user: User, model_id: str) -> library_db.Made:
    made = library_db.made_row(_db(request), user, PostureModel, model_id)
    if made is None:
        raise _missing("posture model")
    return made


def _required(body: Body | None, what: str) -> Body:
    """The request's body; 422 without one (checked after the model, so another user's id is 404 either way)."""
    if body is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"send {what} as the JSON body")
    return body


def _training_job(request: Request, job_id: str | None) -> Job | None:
    if not job_id:
        return None
    with _db(request).session() as s:
        return s.get(Job, job_id)


def _summary(request: Request, job_id: str | None) -> dict[str, Any]:
    """The training job's stored summary; empty for a model trained before it was kept (or its file lost)."""
    if not job_id:
        return {}
    with _db(request).session() as s:
        key = s.scalars(select(Result.storage_key).where(Result.job_id == job_id, Result.kind == TRAINING)).first()
    if key is None:
        return {}
    with suppress(FileNotFoundError, ValueError), _storage(request).local_copy(key) as path:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    return {}


def _pending_training(request: Request, model_id: str) -> Job | None:
    """A training job of the model still queued or running."""
    with _db(request).session() as s:
        for job in s.scalars(
            select(Job).where(
                Job.kind == "posture_train", Job.state.in_((QUEUED, RUNNING)), Job.params.contains(model_id)
            )
        ):
            if job.parameters().get("target_id") == model_id:
                return job
    return None


@router.get("/v1/posture-models/{model_id}/videos", response_model=ModelVideosOut, responses=NOT_FOUND)
def model_videos(model_id: str, user: Caller, request: Request) -> ModelVideosOut:
    """The videos the model was trained on, with their labelled ranges and, for each, the accuracy on it of the
    models that cross-validation trained without it (the held-out video's frames)."""
    made = _model(request, user, model_id)
    job = _training_job(request, made.row.job_id)
    items = job.parameters().get("items", []) if job is not None and job.kind == "posture_train" else []
    summary = _summary(request, job.id if job is not None else None)
    kept = {v["video_id"]: v for v in summary.get("videos", [])}
    db = _db(request)
    videos = []
    for item in items:
        seen = db.video(user, item["video_id"])
        figures = kept.get(item["video_id"], {})
        held = figures.get("held_out")
        videos.append(
            ModelVideoOut(
                video_id=item["video_id"],
                filename=seen.filename if seen is not None else None,
                ranges=item["ranges"],
                labels=sorted({r["label"] for r in item["ranges"]}),
                labelled_frames=figures.get("labelled_frames"),
                held_out=HeldOut(**held) if held else None,
            )
        )
    return ModelVideosOut(
        model_id=made.row.id,
        job_id=made.row.job_id,
        method=summary.get("method", "not recorded (trained before it was kept)"),
        folds=summary.get("folds"),
        cv_accuracy=made.row.cv_accuracy,
        videos=videos,
    )


@router.post(
    "/v1/posture-models/{model_id}/videos", response_model=schemas.JobOut, status_code=202, responses=JOB_ERRORS
)
def add_model_video(
    model_id: str, user: Caller, request: Request, response: Response, body: ModelVideoAdd | None = None
) -> object:
    """Add one of your videos, with its labelled ranges, to the training set of one of your models: a
    ``posture_train`` job trains it again on all its videos (poll ``GET /v1/jobs/{id}``); the model in use
    until then is the one before. 409 while the model is not trained yet, while it is being trained again,
    or when the video is in its training set already."""
    made = _model(request, user, model_id)
    row = made.row
    if row.owner_id != user.id:
        raise _missing("posture model")
    body = _required(body, 'the video: {"video_id": ..., "ranges": [{"start_s", "end_s", "label"}, ...]}')
    if made.state != library_db.READY:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"the posture model is {made.state}: add videos once it is trained"
        )
    db = _db(request)
    video: Video | None = db.video(user, body.video_id)
    if video is None or video.owner_id != user.id:
        raise _missing("video")
    training = _training_job(request, row.job_id)
    params = training.parameters() if training is not None else {}
    items = list(params.get("items", []))
    if any(item["video_id"] == video.id for item in items):
        raise HTTPException(status.HTTP_409_CONFLICT, f"{video.filename} is in the model's training set already")
    if len(items) >= MAX_VIDEOS:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a posture model is trained on at most {MAX_VIDEOS} videos")
    if _pending_training(request, row.id) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "the posture model is being trained: add the video once that training is done"
        )
    try:
        quotas.admit_job(db, request.app.state.settings, user)
    except quotas.QuotaExceeded as exc:
        raise over_quota(exc) from None
    item = {"video_id": video.id, "ranges": [r.model_dump() for r in body.ranges]}
    job = db.add_job(
        user,
        video,
        "posture_train",
        {"algorithm": params.get("algorithm", "auto"), "items": [*items, item], "target_id": row.id},
    )
    if _runner(request).submit(job.id) is False:
        response.headers["X-Job-Queue"] = "waiting: the job queue is unavailable; the job starts when it is back"
    return job


@router.post("/v1/posture-models/{model_id}/runs", response_model=schemas.JobOut, status_code=202, responses=JOB_ERRORS)
def run_model(
    model_id: str, user: Caller, request: Request, response: Response, body: PostureRunCreate | None = None
) -> object:
    """Run a posture model you can see on one of your videos: a job of kind ``posture`` (the same as ``POST
    /v1/jobs`` with ``kind`` posture; cancel it with ``DELETE /v1/jobs/{id}``). Its ``report`` holds the posture
    of every frame (``per_frame``), the steady ``segments``, ``transitions`` (how often each posture changed to
    each other), ``time_per_posture_s`` and, with ``count``, the repetitions."""
    _model(request, user, model_id)
    body = _required(body, 'the video: {"video_id": ...}')
    job = schemas.PostureJob(
        kind="posture", video_id=body.video_id, model_id=model_id, count=body.count, smooth=body.smooth
    )
    return create_job(job, user, request, response)
