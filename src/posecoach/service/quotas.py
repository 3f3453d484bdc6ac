"""Per-user quotas: what one account may hold and start.

* storage: the total size of the user's uploaded videos (``videos.size_bytes``) may not pass
  ``POSECOACH_QUOTA_STORAGE_MB``; an upload that would pass it is refused before it is stored (from its declared
  length, else while it streams in);
* jobs at once: the user's jobs ``queued`` or ``running`` may not pass ``POSECOACH_QUOTA_ACTIVE_JOBS``;
* jobs per hour: the jobs the user was let start in the last hour may not pass ``POSECOACH_QUOTA_JOBS_PER_HOUR``.
  They are counted in a ledger of their own (``job_starts``, migration 0008: the user and the time, nothing
  else), not from ``jobs``: deleting a video deletes its jobs, and counting the rows left would let a user start
  jobs without end by deleting and uploading again. Rows older than the hour are deleted as new ones come.

Over a quota the request is refused with 429, the reason, and ``Retry-After`` (seconds): for jobs per hour, when
the oldest job of the hour leaves the window; for jobs at once, a guess (a job slot frees when one finishes or is
cancelled); for storage, an hour (space frees only when the user deletes videos, which the reason says).
Admins are exempt: they run the deployment (and make the clinic's guides). The checks are made before the row is
written, not under a lock, so requests of one user racing each other may pass a quota by the few in flight.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from posecoach.service.db import QUEUED, RUNNING, Base, Database, Job, User, Video, new_id, utcnow
from posecoach.service.settings import Settings

HOUR = 3600
ACTIVE_RETRY_S = 30
STORAGE_RETRY_S = HOUR


class JobStart(Base):
    """One job a user was let start (`admit_job`): the ledger of the jobs-per-hour quota."""

    __tablename__ = "job_starts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class QuotaExceeded(Exception):
    """Over a quota: the reason for the user and when to try again (seconds)."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, self.retry_after))}


def exempt(user: User) -> bool:
    return user.role == "admin"


def storage_used(db: Database, user: User) -> int:
    """Bytes of the videos ``user`` uploaded."""
    with db.session() as s:
        return int(s.scalar(select(func.coalesce(func.sum(Video.size_bytes), 0)).where(Video.owner_id == user.id))
                   or 0)


def storage_left(db: Database, settings: Settings, user: User) -> int | None:
    """Bytes ``user`` may still upload (None: no quota applies, an admin)."""
    if exempt(user):
        return None
    return max(0, int(settings.quota_storage_mb * 1024 * 1024) - storage_used(db, user))


def storage_refusal(settings: Settings, left: int, size: int | None = None) -> QuotaExceeded:
    """The refusal of an upload (of ``size`` bytes when known) that does not fit in the ``left`` bytes."""
    what = f"this upload ({size / 2**20:,.1f} MiB)" if size else "this upload"
    return QuotaExceeded(f"storage quota: {what} does not fit in the {left / 2**20:,.1f} MiB left of your "
                         f"{settings.quota_storage_mb:g} MiB (POSECOACH_QUOTA_STORAGE_MB); delete videos you no "
                         "longer need to make room", STORAGE_RETRY_S)


def check_storage(db: Database, settings: Settings, user: User, size: int | None) -> int | None:
    """The bytes ``user`` may still upload (None: no quota); QuotaExceeded when none, or fewer than ``size``
    (the upload's declared length)."""
    left = storage_left(db, settings, user)
    if left is not None and (left == 0 or (size is not None and size > left)):
        raise storage_refusal(settings, left, size)
    return left


def check_jobs(db: Database, settings: Settings, user: User) -> None:
    """QuotaExceeded when ``user`` may not create another job now (too many at once, or in the last hour)."""
    if exempt(user):
        return
    since = utcnow() - timedelta(seconds=HOUR)
    with db.session() as s:
        active = s.scalar(select(func.count()).select_from(Job)
                          .where(Job.owner_id == user.id, Job.state.in_((QUEUED, RUNNING)))) or 0
        recent = s.execute(select(func.count(), func.min(JobStart.at))
                           .where(JobStart.user_id == user.id, JobStart.at >= since)).one()
    if active >= settings.quota_active_jobs:
        raise QuotaExceeded(f"job quota: you have {active} jobs queued or running, and {settings.quota_active_jobs} "
                            "at once is the most (POSECOACH_QUOTA_ACTIVE_JOBS); wait for one to finish, or cancel "
                            "one (DELETE /v1/jobs/{id})", ACTIVE_RETRY_S)
    count, oldest = int(recent[0] or 0), recent[1]
    if count >= settings.quota_jobs_per_hour:
        wait = math.ceil((oldest + timedelta(seconds=HOUR) - utcnow()).total_seconds()) if oldest else HOUR
        raise QuotaExceeded(f"job quota: you created {count} jobs in the last hour, and "
                            f"{settings.quota_jobs_per_hour} an hour is the most (POSECOACH_QUOTA_JOBS_PER_HOUR); "
                            f"try again in {max(1, wait)} s", max(1, wait))


def admit_job(db: Database, settings: Settings, user: User) -> None:
    """`check_jobs`, then count the job the user is let start in the jobs-per-hour ledger (and forget their
    starts older than the hour)."""
    check_jobs(db, settings, user)
    if exempt(user):
        return
    now = utcnow()
    with db.session() as s:
        s.execute(delete(JobStart).where(JobStart.user_id == user.id, JobStart.at < now - timedelta(seconds=HOUR)))
        s.add(JobStart(id=new_id(), user_id=user.id, at=now))
