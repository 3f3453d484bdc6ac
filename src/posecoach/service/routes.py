"""The HTTP routes: thin, each one authenticates, calls the database / storage / job runner, and answers.

Every read goes through a query scoped to the caller (`Database` methods taking the user), so another
user's id answers 404 exactly like an id that does not exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from fastapi.security import APIKeyCookie, APIKeyHeader
from starlette.requests import HTTPConnection

from posecoach import __version__
from posecoach.errors import InputError
from posecoach.service import care_db, schemas
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
SESSION_COOKIE = "posecoach_key"
_cookie_key = APIKeyCookie(name=SESSION_COOKIE, auto_error=False,
                           description="The web app's sign-in: the API key in an HttpOnly, SameSite=Strict cookie "
                           "set by POST /v1/session (lets <video> and WebSocket requests authenticate).")
NOT_FOUND = {404: {"model": schemas.Problem}}


def _db(request: HTTPConnection) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def _storage(request: Request) -> Storage:
    return request.app.state.storage  # type: ignore[no-any-return]


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _runner(request: Request) -> LocalRunner:
    return request.app.state.runner  # type: ignore[no-any-return]


def key_user(conn: HTTPConnection, key: str | None) -> User | None:
    """The user of an API key (from the header or the session cookie; HTTP requests and WebSockets alike)."""
    return _db(conn).user_for_key(key) if key else None


def caller(request: Request, key: Annotated[str | None, Depends(_api_key)],
           cookie: Annotated[str | None, Depends(_cookie_key)]) -> User:
    """The user of the request's API key (header, else the web app's session cookie); 401 without a valid one."""
    user = key_user(request, key or cookie)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid API key is required (header X-API-Key)",
                            headers={"WWW-Authenticate": "X-API-Key"})
    return user


Caller = Annotated[User, Depends(caller)]


def _missing(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no such {what}")


def _video(request: Request, user: User, video_id: str) -> Video:
    """The caller's video (a clinician's patients' too); 404 for anyone else's, as for one that does not exist."""
    video = _db(request).video(user, video_id)
    if video is None:
        raise _missing("video")
    return video


def _job(request: Request, user: User, job_id: str) -> Job:
    """The caller's job; 404 for anyone else's, as for one that does not exist."""
    job = _db(request).job(user, job_id)
    if job is None:
        raise _missing("job")
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


@router.post("/v1/session", response_model=schemas.UserOut, tags=["users"], responses={401: {"model": schemas.Problem}})
def sign_in(body: schemas.SignIn, request: Request, response: Response) -> User:
    """Sign in to the web app: checks the API key and keeps it in an HttpOnly, SameSite=Strict cookie."""
    user = key_user(request, body.api_key)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key: ask your administrator for yours "
                            "(`posecoach users add NAME` prints a new one)")
    response.set_cookie(SESSION_COOKIE, body.api_key, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=30 * 24 * 3600)
    return user


@router.delete("/v1/session", status_code=204, tags=["users"])
def sign_out() -> Response:
    """Sign out of the web app (forget the session cookie)."""
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/v1/users", response_model=schemas.NewUser, status_code=201, tags=["users"],
             responses={403: {"model": schemas.Problem}, 409: {"model": schemas.Problem}})
def create_user(body: schemas.UserCreate, user: Caller, request: Request) -> schemas.NewUser:
    """Create an account and its API key (admins only); the key is shown in this answer only."""
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin can create users")
    try:
        new, key = _db(request).create_user(body.name, body.role)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return schemas.NewUser(user=schemas.NewUserOut.model_validate(new), api_key=key)


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


def _probe(path: Path) -> tuple[str | None, object]:
    """Decode the start of the upload: the stored suffix of its container (None: not one PoseCoach keeps) and its
    info, or an InputError (not a video, damaged, no frames)."""
    from posecoach.io import VideoReader

    with VideoReader(path) as reader:
        info = reader.info
    return video_suffix(info.container, info.codec), info


@router.post("/v1/videos", response_model=schemas.VideoOut, status_code=201, tags=["videos"],
             openapi_extra={"requestBody": {"required": True, "content": {
                 "video/mp4": {"schema": {"type": "string", "format": "binary"}},
                 "video/webm": {"schema": {"type": "string", "format": "binary"}}}}},
             responses={413: {"model": schemas.Problem}, 415: {"model": schemas.Problem},
                        422: {"model": schemas.Invalid}})
async def upload_video(request: Request, user: Caller,
                       filename: Annotated[str, Query(max_length=255)] = "video") -> Video:
    """Upload a video as the raw request body with its video type (e.g. ``curl -H 'Content-Type: video/mp4'
    --data-binary @clip.mp4``). It is streamed to storage; too large (``POSECOACH_MAX_UPLOAD_MB``) is 413; a
    content type that is not video/*, or a container other than MP4/MOV, WebM/Matroska or AVI, is 415; content
    that does not decode as a video, or one longer than ``POSECOACH_MAX_DURATION_S``, is 422 with the reason."""
    settings, storage = _settings(request), _storage(request)
    refusal = upload_type_refusal(request.headers.get("content-type"))
    if refusal:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, refusal)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"the upload is larger than the limit of {settings.max_upload_mb:g} MiB")
    try:
        incoming, size = await storage.receive(request.stream(), settings.max_upload_bytes)
    except TooLarge:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"the upload is larger than the limit of {settings.max_upload_mb:g} MiB") from None
    try:
        if size == 0:
            raise InputError("the upload is empty: send the video as the request body")
        suffix, info = await run_in_threadpool(_probe, incoming)
        if info.num_frames < 2 or info.container.endswith("_pipe"):  # type: ignore[attr-defined]
            raise InputError("the upload is a still image, not a video")
        if info.duration > settings.max_duration_s:  # type: ignore[attr-defined]
            raise InputError(f"the video lasts {info.duration:.0f} s, longer than the limit of "  # type: ignore[attr-defined]
                             f"{settings.max_duration_s:g} s")
    except InputError as exc:
        incoming.unlink(missing_ok=True)
        reason = str(exc).replace(str(incoming), filename)  # never show storage paths
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, reason) from None
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
    return _db(request).videos(user)


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
    """Delete one of your videos with its jobs and results."""
    keys = _db(request).delete_video(user, video_id)
    if keys is None:
        raise _missing("video")
    for key in keys:
        _storage(request).delete(key)
    return Response(status_code=204)


@router.post("/v1/jobs", response_model=schemas.JobOut, status_code=202, tags=["jobs"],
             responses={**NOT_FOUND, 409: {"model": schemas.Problem}, 422: {"model": schemas.Invalid}})
def create_job(body: Annotated[schemas.JobCreate, Body()], user: Caller, request: Request) -> object:
    """Queue a job on one of your videos (``kind``: pose, analyze (default), compare, falls, posture); poll
    ``GET /v1/jobs/{id}`` for its state and progress, then ``GET /v1/jobs/{id}/results``."""
    db = _db(request)
    video = db.video(user, body.video_id)
    if video is None or video.owner_id != user.id:
        raise _missing("video")
    job = db.add_job(user, video, body.kind, job_params(db, user, body))
    _runner(request).submit(job.id)
    return job


@router.get("/v1/jobs", response_model=list[schemas.JobOut], tags=["jobs"])
def list_jobs(user: Caller, request: Request, state: schemas.JobState | None = None) -> object:
    return _db(request).jobs(user, state)


@router.get("/v1/jobs/{job_id}", response_model=schemas.JobOut, tags=["jobs"], responses=NOT_FOUND)
def get_job(job_id: str, user: Caller, request: Request) -> object:
    return _job(request, user, job_id)


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
