"""A user's History: the finished jobs (with their report's figures and the video's file name) and the finished
live sets (`live_db`), newest first, optionally only one exercise's and only within dates.

An analysis' range of motion is its repetitions' typical range (`set_range`: the median, in the unit every output
shows: degrees, or centimetres estimated from the pose), stored with its report's figures (``results.rom``,
migration 0010); a whole-body count's ranges ("x typical", relative to the set itself) are not comparable between
sets and give none."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from statistics import median
from typing import TYPE_CHECKING

from sqlalchemy import select

from posecoach.service import schemas
from posecoach.service.db import DONE, Database, Job, Result, Video
from posecoach.service.live_db import LiveRecord

if TYPE_CHECKING:
    from posecoach.reports.analysis_report import AnalysisReport

UNITS = ("deg", "cm")  # the ranges History charts over time


def set_range(report: AnalysisReport) -> tuple[float | None, str | None]:
    """The typical range of motion of one repetition of the set (the median over its repetitions) and its unit
    (``deg``, or ``cm`` estimated); (None, None) without repetitions or with ranges in no absolute unit."""
    items = [r for r in report.reps.items if r.rom_unit in UNITS and r.rom == r.rom]
    units = {r.rom_unit for r in items}
    if not items or len(units) != 1:
        return None, None
    return round(float(median(r.rom for r in items)), 1), units.pop()


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
                                     error_count=r.error_count, score=r.score, fall_count=r.fall_count,
                                     rom=r.rom, rom_unit=r.rom_unit)
                 for j, r, name, duration in s.execute(query).all()]
        items += [schemas.HistoryItem(job_id=x.id, video_id=None, kind="live", source="live", file_name=None,
                                      duration_s=x.duration_s, target=x.target, finished_at=x.finished_at,
                                      exercise=x.exercise, rep_count=x.rep_count, rep_confidence=x.rep_confidence,
                                      error_count=x.error_count, score=None, fall_count=None)
                  for x in s.scalars(live).all()]
    never = datetime.min
    return sorted(items, key=lambda i: i.finished_at.replace(tzinfo=None) if i.finished_at else never, reverse=True)
