"""Cancelling jobs: ``DELETE /v1/jobs/{id}`` moves a queued or running job to ``cancelled`` (the row stays, with
who cancelled it in ``error``); the worker running it sees that at its next progress step and stops.

How a running job stops: every progress write of its worker (`Database.set_progress`, at most every half
second while poses are estimated or an overlay is drawn) and every result it is about to store (`work.Work`)
checks that the job is still ``running``; when it is not (cancelled, its video deleted with its jobs, or queued
again elsewhere), the worker raises `work.JobStopped`, removes what it stored and leaves the row as it is. The
final step, which records the results and ``done`` in one transaction, only takes a job still ``running``, so a
cancelled job never becomes done. A queued job is simply never claimed (a claim takes only ``queued`` jobs).
"""

from __future__ import annotations

from sqlalchemy import select, update

from posecoach.service.db import CANCELLED, QUEUED, RUNNING, Database, Job, User, utcnow

__all__ = ["CANCELLED", "cancel", "state_of"]


def state_of(db: Database, job_id: str) -> str | None:
    """The job's state now; None when it is gone (deleted with its video)."""
    with db.session() as s:
        return s.scalar(select(Job.state).where(Job.id == job_id))


def cancel(db: Database, user: User, job_id: str) -> Job | None:
    """Cancel the job ``job_id`` if it is queued or running; the job afterwards (unchanged when it had finished).
    None when it is not ``user``'s (an admin may cancel any job): a clinician reads a patient's jobs but cancels
    none, as they delete none of the patient's data."""
    with db.session() as s:
        query = select(Job).where(Job.id == job_id)
        if user.role != "admin":
            query = query.where(Job.owner_id == user.id)
        job = s.scalars(query).first()
        if job is None:
            return None
        who = "its owner" if job.owner_id == user.id else "an administrator"
        s.execute(update(Job).where(Job.id == job_id, Job.state.in_((QUEUED, RUNNING)))
                  .values(state=CANCELLED, error=f"cancelled by {who}", finished_at=utcnow(), worker=None))
    with db.session() as s:
        return s.get(Job, job_id)
