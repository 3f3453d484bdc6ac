"""A user's History: the finished jobs (with their report's figures and the video's file name) and the finished
live sets (`live_db`), newest first, optionally only one exercise's and only within dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from posecoach.service import schemas
from posecoach.service.db import DONE, Database, Job, Result, Video
from posecoach.service.live_db import LiveRecord


def _bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """``since`` from its first moment, ``until`` to its last (both days included)."""
    return (datetime.combine(since, time.min) if since else None,
            datetime.combine(until + timedelta(days=1), time.min) if until else None)


def entries(db: Database, owner_id: str, exercise: str | None = None, since: date | None = None,
            until: date | None = None) -> list[schemas.HistoryItem]:
    """The History of ``owner_id`` (the caller checked it may read it)."""
    start, end = _bounds(since, until)
    with db.session() as s:
        query = (select(Job, Result, Video.filename, Video.duration_s).join(Result, Result.job_id == Job.id)
                 .join(Video, Video.id == Job.video_id)
                 .where(Job.owner_id == owner_id, Job.state == DONE, Result.kind == "report"))
        live = select(LiveRecord).where(LiveRecord.owner_id == owner_id)
        if exercise:
            query, live = query.where(Result.exercise == exercise), live.where(LiveRecord.exercise == exercise)
        if start:
            query, live = query.where(Job.finished_at >= start), live.where(LiveRecord.finished_at >= start)
        if end:
            query, live = query.where(Job.finished_at < end), live.where(LiveRecord.finished_at < end)
        items = [schemas.HistoryItem(job_id=j.id, video_id=j.video_id, kind=j.kind, source="upload", file_name=name,
                                     duration_s=duration, finished_at=j.finished_at, exercise=r.exercise,
                                     rep_count=r.rep_count, rep_confidence=r.rep_confidence,
                                     error_count=r.error_count, score=r.score, fall_count=r.fall_count)
                 for j, r, name, duration in s.execute(query).all()]
        items += [schemas.HistoryItem(job_id=x.id, video_id=None, kind="live", source="live", file_name=None,
                                      duration_s=x.duration_s, target=x.target, finished_at=x.finished_at,
                                      exercise=x.exercise, rep_count=x.rep_count, rep_confidence=x.rep_confidence,
                                      error_count=x.error_count, score=None, fall_count=None)
                  for x in s.scalars(live).all()]
    never = datetime.min
    return sorted(items, key=lambda i: i.finished_at.replace(tzinfo=None) if i.finished_at else never, reverse=True)
