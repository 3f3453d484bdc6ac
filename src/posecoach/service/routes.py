"""The HTTP routes: thin, each one authenticates, calls the database / storage / job runner, and answers.

Every read goes through a query scoped to the caller (`Database` methods taking the user), so another
user's id answers 404 exactly like an id that does not exist.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from fastapi.security import APIKeyCookie, APIKeyHeader
from starlette.requests import HTTPConnection

from posecoach.core.version import __version__
from posecoach.errors import InputError
from posecoach.service import audit, care_db, degraded, job_control, lifecycle, limits, quotas, schemas
from posecoach.service.auth import SESSION_COOKIE, AuthError, authenticate, require_scope
from posecoach.service.db import Database, Job, User, Video, new_id, utcnow
from posecoach.service.job_params import job_params
from posecoach.service.jobs import LocalRunner
from posecoach.service.security import (
    ACCEPTED,
    content_disposition,
    upload_type_refusal,
    video_media_type,
    video_suffix,
)
from posecoach.service.settings import Settings
from posecoach.service.storage import Storage, TooLarge

router = APIRouter()
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Your API key (pc_...).")
_session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                        description="The web app's sign-in: an opaque session token in an HttpOnly, SameSite=Strict "
                        "cookie set by POST /v1/session (lets <video> and WebSocket requests authenticate).")
NOT_FOUND = {404: {"model": schemas.Problem}}


def _db(request: HTTPConnection) -> Database:
    degraded.require_database(request.app.state)  # 503 while the database has not answered since the start
    return request.app.state.db  # type: ignore[no-any-return]


def _storage(request: Request) -> Storage:
    return request.app.state.storage  # type: ignore[no-any-return]


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _runner(request: Request) -> LocalRunner:
    return request.app.state.runner  # type: ignore[no-any-return]


def caller(request: Request, key: Annotated[str | None, Depends(_api_key)],
           cookie: Annotated[str | None, Depends(_session)]) -> User:
    """The user of the request's API key (header), else of the web app's session (cookie), as `auth` finds it;
    401 without a valid one, 403 when the key's scopes do not cover the method, 429 after too many wrong keys.
    ``request.state.auth`` keeps the scopes for the routes that need more (admin)."""
    try:
        found = authenticate(request, key, cookie)
        require_scope(found, request.method)
    except AuthError as exc:
        raise HTTPException(exc.status, exc.reason, headers=exc.headers or None) from None
    request.state.auth = found
    return found.user


Caller = Annotated[User, Depends(caller)]


def _missing(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no such {what}")


def over_quota(exc: quotas.QuotaExceeded) -> HTTPException:
    """429 with the quota's reason and Retry-After."""
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, exc.reason, headers=exc.headers)


def _video(request: Request, user: User, video_id: str) -> Video:
    """The caller's video (a clinician's patients' too); 404 for anyone else's, as for one that does not exist."""
    video = _db(request).video(user, video_id)
    if video is None:
        raise _missing("video")
    audit.record_read(_db(request), user, video.owner_id, "video", video.id, **audit.origin(request))
    return video


def _job(request: Request, user: User, job_id: str) -> Job:
    """The caller's job; 404 for anyone else's, as for one that does not exist."""
    job = _db(request).job(user, job_id)
    if job is None:
        raise _missing("job")
    audit.record_read(_db(request), user, job.owner_id, "job", job.id, **audit.origin(request))
    return job


def _stored(request: Request, key: str, what: str, media_type: str) -> Response:
    """The stored file of ``key`` as a response (range requests answered); 404 when it is gone."""
    try:
        return _storage(request).response(key, media_type)
    except FileNotFoundError:
        raise _missing(what) from None


@router.get("/health", response_model=schemas.Health, tags=["service"])
def health() -> schemas.Health:
    """Liveness: the process answers."""
    return schemas.Health(status="ok", version=__version__)


@router.get("/ready", response_model=schemas.Readiness, tags=["service"],
            responses={503: {"model": schemas.Readiness}})
def ready(request: Request, response: Response) -> schemas.Readiness:
    """Readiness: the database answers, storage is writable and the job runner takes jobs."""
    try:
        database = _db(request).ping()
    except Exception:
        database = False
    runner = _runner(request)
    out = schemas.Readiness(ready=False, database=database, storage=_storage(request).writable(),
                            jobs=runner.alive(), jobs_in_progress=runner.busy())
    out.ready = out.database and out.storage and out.jobs
    if not out.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return out


@router.get("/v1/me", response_model=schemas.UserOut, tags=["users"])
def me(user: Caller) -> User:
    return user


@router.get("/v1/patients", response_model=list[schemas.PatientOut], tags=["care"])
def list_patients(user: Caller, request: Request) -> list[schemas.PatientOut]:
    """The users whose videos and results you may read: a clinician's patients who accepted their care
    (everyone, for an admin), by name; ``GET /v1/history?patient=NAME`` shows one's history."""
    return [schemas.PatientOut(name=u.name, role=u.role, since=since)  # type: ignore[arg-type]
            for u, since in care_db.patients(_db(request), user)]


def _care_link(link: care_db.Link) -> schemas.CareLinkOut:
    return schemas.CareLinkOut(id=link.id, clinician=link.clinician, patient=link.patient,
                               state=link.state, created_at=link.created_at,  # type: ignore[arg-type]
                               accepted_at=link.accepted_at)


CARE_ERRORS = {403: {"model": schemas.Problem}, **NOT_FOUND, 409: {"model": schemas.Problem}}


def _care_error(exc: Exception) -> HTTPException:
    code = {care_db.NotFound: 404, care_db.Refused: 403, care_db.Conflict: 409}[type(exc)]
    return HTTPException(code, str(exc))


@router.get("/v1/care-links", response_model=list[schemas.CareLinkOut], tags=["care"])
def list_care_links(user: Caller, request: Request) -> list[schemas.CareLinkOut]:
    """Your care links and invitations, as clinician or as patient, newest first: ``pending`` until the patient
    accepts, then ``accepted``."""
    return [_care_link(link) for link in care_db.links(_db(request), user)]


@router.post("/v1/care-links", response_model=schemas.CareLinkOut, status_code=201, tags=["care"],
             responses=CARE_ERRORS)
def invite_patient(body: schemas.CareInvite, user: Caller, request: Request) -> schemas.CareLinkOut:
    """A clinician invites a patient by username. The invitation is pending, and gives no access to the
    patient's data, until the patient accepts it. 403: you are not a clinician, or the user is an admin;
    404: no such user; 409: invited or linked already, or yourself."""
    try:
        return _care_link(care_db.invite(_db(request), user, body.patient))
    except (care_db.NotFound, care_db.Refused, care_db.Conflict) as exc:
        raise _care_error(exc) from None


@router.post("/v1/care-links/{link_id}/accept", response_model=schemas.CareLinkOut, tags=["care"],
             responses=CARE_ERRORS)
def accept_care_link(link_id: str, user: Caller, request: Request) -> schemas.CareLinkOut:
    """The patient accepts a clinician's invitation: from now on the clinician reads the patient's videos,
    results and history, and the patient sees the clinician's guides and posture models. 403 for the
    clinician (only the patient accepts); 404 for a link you are no side of."""
    try:
        return _care_link(care_db.accept(_db(request), user, link_id))
    except (care_db.NotFound, care_db.Refused) as exc:
        raise _care_error(exc) from None


@router.delete("/v1/care-links/{link_id}", status_code=204, tags=["care"], responses=NOT_FOUND)
def end_care_link(link_id: str, user: Caller, request: Request) -> Response:
    """End a care link, or decline (the patient) or withdraw (the clinician) an invitation: either side may;
    the clinician's access ends at once."""
    if not care_db.end(_db(request), user, link_id):
        raise _missing("care link")
    return Response(status_code=204)


def _probe(path: Path, settings: Settings) -> tuple[str | None, object]:
    """Check the upload against the limits on work from its header and packets (`limits`: OverLimit, nothing
    decoded), then decode its start: the stored suffix of its container (None: not one PoseCoach keeps) and its
    info, or an InputError (not a video, damaged, no frames)."""
    from posecoach.io import VideoReader

    with suppress(limits.Unreadable):  # not readable as a video: VideoReader says why
        limits.check_file(path, settings)
    with VideoReader(path) as reader:
        info = reader.info
    return video_suffix(info.container, info.codec), info


@router.post("/v1/videos", response_model=schemas.VideoOut, status_code=201, tags=["videos"],
             openapi_extra={"requestBody": {"required": True, "content": {
                 "video/mp4": {"schema": {"type": "string", "format": "binary"}},
                 "video/webm": {"schema": {"type": "string", "format": "binary"}}}}},
             responses={413: {"model": schemas.Problem}, 415: {"model": schemas.Problem},
                        422: {"model": schemas.Invalid}, 429: {"model": schemas.Problem}})
async def upload_video(request: Request, user: Caller,
                       filename: Annotated[str, Query(max_length=255)] = "video") -> Video:
    """Upload a video as the raw request body with its video type (e.g. ``curl -H 'Content-Type: video/mp4'
    --data-binary @clip.mp4``). It is streamed to storage; too large (``POSECOACH_MAX_UPLOAD_MB``) is 413; a
    content type that is not video/*, or a container other than MP4/MOV, WebM/Matroska or AVI, is 415; content
    that does not decode as a video, or one longer than ``POSECOACH_MAX_DURATION_S``, is 422 with the reason;
    frames, frame rate or pixels over the limits on work (``POSECOACH_MAX_FRAME_PIXELS``, ``_MAX_FRAMES``,
    ``_MAX_FPS``, ``_MAX_PIXEL_RATE``; read from the container, nothing decoded) are 413; over your storage quota
    (``POSECOACH_QUOTA_STORAGE_MB``) is 429."""
    settings, storage = _settings(request), _storage(request)
    refusal = upload_type_refusal(request.headers.get("content-type"))
    if refusal:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, refusal)
    declared = request.headers.get("content-length")
    length = int(declared) if declared and declared.isdigit() else None
    too_large = HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                              f"the upload is larger than the limit of {settings.max_upload_mb:g} MiB")
    if length is not None and length > settings.max_upload_bytes:
        raise too_large
    try:
        left = await run_in_threadpool(quotas.check_storage, _db(request), settings, user, length)
    except quotas.QuotaExceeded as exc:
        raise over_quota(exc) from None
    limit = settings.max_upload_bytes if left is None else min(settings.max_upload_bytes, left)
    try:
        incoming, size = await storage.receive(request.stream(), limit)
    except TooLarge:
        if left is not None and limit < settings.max_upload_bytes:
            raise over_quota(quotas.storage_refusal(settings, left)) from None
        raise too_large from None
    try:
        if size == 0:
            raise InputError("the upload is empty: send the video as the request body")
        suffix, info = await run_in_threadpool(_probe, incoming, settings)
        if info.num_frames < 2 or info.container.endswith("_pipe"):  # type: ignore[attr-defined]
            raise InputError("the upload is a still image, not a video")
        if info.duration > settings.max_duration_s:  # type: ignore[attr-defined]
            raise InputError(f"the video lasts {info.duration:.0f} s, longer than the limit of "  # type: ignore[attr-defined]
                             f"{settings.max_duration_s:g} s")
    except InputError as exc:
        incoming.unlink(missing_ok=True)
        reason = str(exc).replace(str(incoming), filename)  # never show storage paths
        raise HTTPException(getattr(exc, "status", status.HTTP_422_UNPROCESSABLE_CONTENT), reason) from None
    if suffix is None:  # decodes, but as a container served back under no video type of ours (e.g. MPEG-TS)
        incoming.unlink(missing_ok=True)
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"the upload is a {info.container} "  # type: ignore[attr-defined]
                            f"file; PoseCoach keeps {ACCEPTED} videos (convert it, e.g. ffmpeg -i in out.mp4)")
    key = storage.new_key("videos", suffix)
    storage.adopt(incoming, key)
    video = Video(id=new_id(), owner_id=user.id, filename=Path(filename).name[:255] or "video", storage_key=key,
                  size_bytes=size, width=info.width, height=info.height, fps=info.fps,  # type: ignore[attr-defined]
                  num_frames=info.num_frames, duration_s=info.duration, created_at=utcnow())  # type: ignore[attr-defined]
    return _db(request).add_video(video)


@router.get("/v1/videos", response_model=list[schemas.VideoOut], tags=["videos"])
def list_videos(user: Caller, request: Request) -> list[Video]:
    videos = _db(request).videos(user)
    audit.record_read(_db(request), user, {v.owner_id for v in videos}, "videos", None, **audit.origin(request))
    return videos


@router.get("/v1/videos/{video_id}", response_model=schemas.VideoOut, tags=["videos"], responses=NOT_FOUND)
def get_video(video_id: str, user: Caller, request: Request) -> Video:
    return _video(request, user, video_id)


@router.get("/v1/videos/{video_id}/file", tags=["videos"], response_class=FileResponse, responses=NOT_FOUND)
def video_file(video_id: str, user: Caller, request: Request) -> Response:
    """The uploaded video (range requests supported, so it plays and seeks in a browser), as an attachment with
    the type of its checked container."""
    video = _video(request, user, video_id)
    answer = _stored(request, video.storage_key, "video file", video_media_type(video.storage_key))
    name = (Path(video.filename).stem or "video") + Path(video.storage_key).suffix
    answer.headers["content-disposition"] = content_disposition("attachment", name)
    return answer


@router.delete("/v1/videos/{video_id}", status_code=204, tags=["videos"], responses=NOT_FOUND)
def delete_video(video_id: str, user: Caller, request: Request) -> Response:
    """Delete one of your videos with its jobs, their results and leftovers, and the guides and posture models
    made from it (`lifecycle`)."""
    if not lifecycle.delete_video(_db(request), _storage(request), user, video_id, audit.origin(request)["address"]):
        raise _missing("video")
    return Response(status_code=204)


@router.post("/v1/jobs", response_model=schemas.JobOut, status_code=202, tags=["jobs"],
             responses={**NOT_FOUND, 409: {"model": schemas.Problem}, 422: {"model": schemas.Invalid},
                        429: {"model": schemas.Problem}})
def create_job(body: Annotated[schemas.JobCreate, Body()], user: Caller, request: Request, response: Response
               ) -> object:
    """Queue a job on one of your videos (``kind``: pose, analyze (default), compare, falls, posture); poll
    ``GET /v1/jobs/{id}`` for its state and progress, then ``GET /v1/jobs/{id}/results``. 429 over your job
    quotas (``POSECOACH_QUOTA_ACTIVE_JOBS`` at once, ``POSECOACH_QUOTA_JOBS_PER_HOUR``), with Retry-After."""
    db = _db(request)
    video = db.video(user, body.video_id)
    if video is None or video.owner_id != user.id:
        raise _missing("video")
    try:
        quotas.admit_job(db, _settings(request), user)
    except quotas.QuotaExceeded as exc:
        raise over_quota(exc) from None
    job = db.add_job(user, video, body.kind, job_params(db, user, body))
    if _runner(request).submit(job.id) is False:  # the queue is down: recorded, sent when it is back (`outbox`)
        response.headers["X-Job-Queue"] = "waiting: the job queue is unavailable; the job starts when it is back"
    return job


@router.get("/v1/jobs", response_model=list[schemas.JobOut], tags=["jobs"])
def list_jobs(user: Caller, request: Request, state: schemas.JobState | None = None) -> object:
    jobs = _db(request).jobs(user, state)
    audit.record_read(_db(request), user, {j.owner_id for j in jobs}, "jobs", None, **audit.origin(request))
    return jobs


@router.get("/v1/jobs/{job_id}", response_model=schemas.JobOut, tags=["jobs"], responses=NOT_FOUND)
def get_job(job_id: str, user: Caller, request: Request) -> object:
    return _job(request, user, job_id)


@router.delete("/v1/jobs/{job_id}", response_model=schemas.JobOut, tags=["jobs"],
               responses={**NOT_FOUND, 409: {"model": schemas.Problem}})
def cancel_job(job_id: str, user: Caller, request: Request) -> object:
    """Cancel one of your jobs while it is queued or running: it becomes ``cancelled`` (kept, with the reason in
    ``error``; a running job stops at its next progress step and stores nothing); cancelling it again answers
    the same. 409 for a job that is done or failed; 404 for one that is not yours, even one you may read (an
    admin may cancel any)."""
    job = job_control.cancel(_db(request), user, job_id)
    if job is None:
        raise _missing("job")
    if job.state != job_control.CANCELLED:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the job is {job.state}: there is nothing to cancel")
    return job


@router.get("/v1/jobs/{job_id}/report", tags=["results"], response_class=FileResponse,
            responses={**NOT_FOUND, 409: {"model": schemas.Problem}})
def job_report(job_id: str, user: Caller, request: Request) -> Response:
    """The finished job's report (JSON, the same as ``posecoach analyze --json``); 409 until it is done."""
    job = _job(request, user, job_id)
    result = _db(request).result(job)
    if result is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"the job is {job.state}: no report"
                            + (f" ({job.error})" if job.error else ""))
    answer = _stored(request, result.storage_key, "report file", "application/json")
    answer.headers["content-disposition"] = content_disposition("inline", f"{job.kind}-{job.id[:8]}.json")
    return answer
