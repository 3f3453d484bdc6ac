"""Data lifecycle: deleting a video, a job, or a whole account removes every row and every stored file, and a
sweep removes what was left behind anyway.

What goes with what:

* **A video**: its jobs and their results, everything its jobs' attempts stored (``results/<job id>/...``, also
  files of attempts that crashed before recording them), the jobs' temporary folders on this machine
  (``<tmp>/posecoach-job-<job id>-*``), the guides made from it (their poses are the video's poses: the guide is
  deleted, not kept without them) and the posture models trained on it (a model keeps features of its training
  frames).
* **A job** (``DELETE /v1/jobs/{id}/results``): its results and leftovers as above; the guide or model it made
  stays (it has its own file).
* **An account**: all of the above for each of its videos, its guides and posture models, then the user row,
  whose keys, sessions and care links go with it (foreign keys ``ON DELETE CASCADE``). The audit log keeps its
  events about the account (see `audit`).

Rows are deleted first, in one transaction, then the files; a file that could not be removed (the storage was
down) is an orphan the next sweep removes. The **sweep** (`sweep`, at start and every
``POSECOACH_SWEEP_INTERVAL_S``) removes stored files that no row refers to, unfinished uploads
(``incoming/*.part``) and job temporary folders older than ``POSECOACH_STALE_AFTER_S``, and, with
``POSECOACH_RETENTION_DAYS``, videos older than that many days (with everything above).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from posecoach.service import audit
from posecoach.service.db import (
    QUEUED,
    RUNNING,
    Database,
    Job,
    PostureModel,
    ReferenceGuide,
    Result,
    User,
    Video,
    utcnow,
)
from posecoach.service.periodic import Periodic

if TYPE_CHECKING:
    from collections.abc import Iterable

    from posecoach.service.settings import Settings
    from posecoach.service.storage import Storage

log = logging.getLogger(__name__)
KINDS = ("videos", "results", "references", "models")  # the storage prefixes rows refer to
JOB_TMP = "posecoach-job-"


class Refused(PermissionError):
    """The deletion is not allowed (the last admin, a job still running): 409."""


@dataclass
class Leftovers:
    """What deleted rows leave to remove: stored keys, and the jobs whose stored prefix and temp folders go."""

    keys: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)

    def __iadd__(self, other: Leftovers) -> Leftovers:
        self.keys += other.keys
        self.job_ids += other.job_ids
        return self


# rows ------------------------------------------------------------------------------------------------------------
def _jobs_rows(s: Session, job_ids: list[str]) -> Leftovers:
    """Delete jobs and their results; what they leave."""
    out = Leftovers(job_ids=list(job_ids))
    if job_ids:
        out.keys += s.scalars(select(Result.storage_key).where(Result.job_id.in_(job_ids))).all()
        s.execute(delete(Result).where(Result.job_id.in_(job_ids)))
        s.execute(delete(Job).where(Job.id.in_(job_ids)))
    return out


def _library_rows(s: Session, model: type[ReferenceGuide] | type[PostureModel], ids: Iterable[str]) -> Leftovers:
    ids = list(set(ids))
    out = Leftovers()
    if ids:
        out.keys += [k for k in s.scalars(select(model.storage_key).where(model.id.in_(ids))).all() if k]
        s.execute(delete(model).where(model.id.in_(ids)))
    return out


def _derived_models(s: Session, video_ids: list[str]) -> list[str]:
    """Posture models trained on any of ``video_ids`` (their training job names the videos)."""
    found: list[str] = []
    for video_id in video_ids:
        for job in s.scalars(select(Job).where(Job.kind == "posture_train", Job.params.contains(video_id))):
            params = job.parameters()
            if any(item.get("video_id") == video_id for item in params.get("items", [])) and params.get("target_id"):
                found.append(str(params["target_id"]))
        found += s.scalars(select(PostureModel.id).join(Job, Job.id == PostureModel.job_id)
                           .where(Job.video_id == video_id)).all()
    return found


def _videos_rows(s: Session, video_ids: list[str]) -> Leftovers:
    """Delete videos with their jobs, results, and the guides and posture models made from them."""
    out = Leftovers()
    if not video_ids:
        return out
    job_ids = list(s.scalars(select(Job.id).where(Job.video_id.in_(video_ids))).all())
    guides = s.scalars(select(ReferenceGuide.id).where(
        ReferenceGuide.video_id.in_(video_ids) | ReferenceGuide.job_id.in_(job_ids or [""]))).all()
    out += _library_rows(s, ReferenceGuide, guides)
    out += _library_rows(s, PostureModel, _derived_models(s, video_ids))
    out += _jobs_rows(s, job_ids)
    out.keys += s.scalars(select(Video.storage_key).where(Video.id.in_(video_ids))).all()
    s.execute(delete(Video).where(Video.id.in_(video_ids)))
    return out


# files -----------------------------------------------------------------------------------------------------------
def job_temp_dirs(job_id: str | None = None) -> list[Path]:
    """This machine's temporary folders of jobs (of one job, or all), as `work.Work` names them."""
    return sorted(Path(tempfile.gettempdir()).glob(f"{JOB_TMP}{job_id + '-' if job_id else ''}*"))


def remove(storage: Storage, left: Leftovers) -> None:
    """Remove stored keys, each job's stored prefix (files of crashed attempts too) and its temp folders; what
    fails is left for the sweep."""
    keys = set(left.keys)
    for job_id in left.job_ids:
        try:
            keys.update(k for k, _ in storage.list_keys(f"results/{job_id}/"))
        except Exception as exc:
            log.warning("listing the files of job %s failed (the sweep removes them later): %s", job_id, exc)
        for folder in job_temp_dirs(job_id):
            shutil.rmtree(folder, ignore_errors=True)
    for key in sorted(keys):
        try:
            storage.delete(key)
        except Exception as exc:
            log.warning("removing %s failed (the sweep removes it later): %s", key, exc)


# deletions -------------------------------------------------------------------------------------------------------
def delete_video(db: Database, storage: Storage, user: User, video_id: str, address: str | None = None) -> bool:
    """Delete a video the caller owns, with everything made from it; False if there is none."""
    with db.session() as s:
        if s.scalar(select(Video.id).where(Video.id == video_id, Video.owner_id == user.id)) is None:
            return False
        left = _videos_rows(s, [video_id])
        audit.record(s, audit.DELETE, actor=user, subject=user, object_type="video", object_id=video_id,
                     address=address)
    remove(storage, left)
    return True


def delete_job(db: Database, storage: Storage, user: User, job_id: str, address: str | None = None) -> bool:
    """Delete a finished job the caller owns with its results and leftovers; False if there is none; `Refused`
    while it is queued or running (cancel it first)."""
    with db.session() as s:
        job = s.scalars(select(Job).where(Job.id == job_id, Job.owner_id == user.id)).first()
        if job is None:
            return False
        if job.state in (QUEUED, RUNNING):
            raise Refused(f"the job is {job.state}: cancel it first (DELETE /v1/jobs/{job_id}), then delete it")
        left = _jobs_rows(s, [job_id])
        audit.record(s, audit.DELETE, actor=user, subject=user, object_type="job", object_id=job_id, address=address)
    remove(storage, left)
    return True


def delete_user(db: Database, storage: Storage, actor: User, user_id: str, address: str | None = None) -> bool:
    """Delete an account with all its data (videos, jobs, results, guides, posture models, keys, sessions, care
    links); False if there is none; `Refused` for the last admin."""
    with db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            return False
        if user.role == "admin" and s.scalar(select(func.count()).select_from(User)
                                             .where(User.role == "admin")) == 1:
            raise Refused("the last administrator's account cannot be deleted (make another admin first)")
        left = _videos_rows(s, list(s.scalars(select(Video.id).where(Video.owner_id == user_id)).all()))
        left += _jobs_rows(s, list(s.scalars(select(Job.id).where(Job.owner_id == user_id)).all()))
        left += _library_rows(s, ReferenceGuide, s.scalars(select(ReferenceGuide.id)
                                                           .where(ReferenceGuide.owner_id == user_id)).all())
        left += _library_rows(s, PostureModel, s.scalars(select(PostureModel.id)
                                                         .where(PostureModel.owner_id == user_id)).all())
        audit.record(s, audit.DELETE, actor=actor, subject=user, object_type="user", object_id=user_id,
                     address=address)
        s.delete(user)
    remove(storage, left)
    return True


# the sweep -------------------------------------------------------------------------------------------------------
@dataclass
class Swept:
    orphans: list[str] = field(default_factory=list)  # stored keys no row referred to
    temp: list[str] = field(default_factory=list)  # unfinished uploads and job temp folders
    expired: list[str] = field(default_factory=list)  # videos past the retention


def _referenced(s: Session, key: str) -> bool:
    for column in (Video.storage_key, Result.storage_key, ReferenceGuide.storage_key, PostureModel.storage_key):
        if s.scalar(select(column).where(column == key).limit(1)) is not None:
            return True
    return False


def sweep_orphans(db: Database, storage: Storage, stale_after_s: float) -> list[str]:
    """Remove stored files no row refers to, older than ``stale_after_s`` (a job still running or queued keeps
    its ``results/<job id>/`` files: it records them when it finishes)."""
    cutoff = time.time() - stale_after_s
    candidates = [key for kind in KINDS for key, mtime in storage.list_keys(f"{kind}/") if mtime < cutoff]
    removed = []
    for key in candidates:
        with db.session() as s:
            if _referenced(s, key):
                continue
            if key.startswith("results/"):
                state = s.scalar(select(Job.state).where(Job.id == key.split("/")[1]))
                if state in (QUEUED, RUNNING):
                    continue
        storage.delete(key)
        removed.append(key)
    return removed


def sweep_temp(db: Database | None, temp_dirs: Iterable[Path], stale_after_s: float) -> list[str]:
    """Remove unfinished uploads (``upload-*.part`` in ``temp_dirs``) older than ``stale_after_s``, and job temp
    folders of this machine whose job is over (at once) or unknown here (after ``stale_after_s``)."""
    cutoff = time.time() - stale_after_s
    removed = []
    for folder in temp_dirs:
        for part in sorted(Path(folder).glob("upload-*.part")):
            with contextlib.suppress(FileNotFoundError):
                if part.stat().st_mtime < cutoff:
                    part.unlink()
                    removed.append(str(part))
    for folder in job_temp_dirs():
        job_id = folder.name[len(JOB_TMP):].split("-", 1)[0]
        state = None
        if db is not None and len(job_id) == 32:
            with db.session() as s:
                state = s.scalar(select(Job.state).where(Job.id == job_id))
        if state == RUNNING:
            continue
        with contextlib.suppress(FileNotFoundError):
            if state is not None or folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder))
    return removed


def expire(db: Database, storage: Storage, days: float) -> list[str]:
    """Delete the videos older than ``days`` days with everything made from them (audited as ``retention``)."""
    cutoff = utcnow() - timedelta(days=days)
    with db.session() as s:
        old = list(s.execute(select(Video.id, Video.owner_id).where(Video.created_at < cutoff)).all())
    for video_id, owner_id in old:
        with db.session() as s:
            left = _videos_rows(s, [video_id])
            audit.record(s, audit.RETENTION, subject=s.get(User, owner_id), object_type="video", object_id=video_id,
                         detail=f"older than the retention of {days:g} days")
        remove(storage, left)
    return [video_id for video_id, _ in old]


def temp_dirs(settings: Settings) -> list[Path]:
    """Where unfinished uploads are spooled: the local storage's ``incoming/`` or the S3 spool folder."""
    return [settings.resolved_storage_dir() / "incoming", settings.data_dir / "incoming"]


def sweep(db: Database, storage: Storage, settings: Settings) -> Swept:
    """One sweep: retention (when set), orphaned stored files, stale temporary files."""
    out = Swept()
    if settings.retention_days:
        out.expired = expire(db, storage, settings.retention_days)
    out.orphans = sweep_orphans(db, storage, settings.stale_after_s)
    out.temp = sweep_temp(db, temp_dirs(settings), settings.stale_after_s)
    if out.orphans or out.temp or out.expired:
        log.info("sweep: %d orphaned files, %d temporary files, %d videos past retention removed",
                 len(out.orphans), len(out.temp), len(out.expired))
    return out


class Sweeper(Periodic):
    """A thread running `sweep` once ``ready`` is set (the database answers), then every
    ``settings.sweep_interval_s`` (0: once)."""

    def __init__(self, settings: Settings, db: Database, storage: Storage, ready: threading.Event | None = None
                 ) -> None:
        super().__init__("posecoach-lifecycle", settings.sweep_interval_s, first_now=True)
        self.settings, self.db, self.storage = settings, db, storage
        self.ready = ready or threading.Event()
        if ready is None:
            self.ready.set()

    def begin(self) -> bool:
        """Wait for ``ready``; False when stopped first."""
        while not self.ready.wait(1.0):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()

    def run_once(self) -> None:
        try:
            sweep(self.db, self.storage, self.settings)
        except Exception as exc:  # the database or storage is away: next time
            log.warning("sweep failed: %s", exc)

