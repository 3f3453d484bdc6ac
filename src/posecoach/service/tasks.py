"""What each job kind does: the work of one claimed job, from its stored video to its stored result.

`run` is called by `jobs.execute` after the job was claimed; it returns the job's final state (``done``) or
raises (`PoseCoachError`: the input cannot be analysed; anything else: retried). Each kind is one function
here, so the queue (`jobs.py`) knows nothing about analyses and an analysis knows nothing about queues.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from posecoach.service.db import DONE, FAILED, Database, Job, Result, Video, new_id, utcnow
from posecoach.service.settings import Settings
from posecoach.service.storage import LocalStorage, Storage


class Progress:
    """Writes a job's progress to the database at most every ``every`` seconds."""

    def __init__(self, db: Database, job_id: str, low: float, high: float, every: float = 0.5) -> None:
        self.db, self.job_id, self.low, self.high, self.every = db, job_id, low, high, every
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total > 0 and (now - self._last >= self.every or done >= total):
            self._last = now
            self.db.set_progress(self.job_id, self.low + (self.high - self.low) * done / total)


def _analyze(db: Database, storage: LocalStorage, settings: Settings, job: Job, video: Video) -> str:
    """Exercise analysis (`posecoach.analyze`): the report JSON."""
    from posecoach.analysis.pipeline import analyze

    params = job.parameters()
    with storage.local_copy(video.storage_key) as path:
        report = analyze(path, params.get("exercise"), model=settings.pose_model,
                         progress=Progress(db, job.id, 0.0, 0.95), workers=1)
    report.input.path = video.filename  # the name the user gave, never a storage path
    key = storage.new_key("results", ".json", job.id)
    storage.write_text(key, report.to_json())
    result = Result(id=new_id(), job_id=job.id, kind="report", storage_key=key, exercise=report.exercise.name,
                    rep_count=report.reps.count, created_at=utcnow())
    if not db.finish(job.id, result):
        storage.delete(key)  # another worker stored it first: keep theirs, once
    return DONE


TASKS: dict[str, Callable[[Database, LocalStorage, Settings, Job, Video], str]] = {"analyze": _analyze}


def run(db: Database, storage: Storage, settings: Settings, job_id: str) -> str:
    """Do the work of a claimed job; returns the final state."""
    loaded = db.load_job(job_id)
    if loaded is None:
        return FAILED
    job, video = loaded
    return TASKS[job.kind](db, storage, settings, job, video)
