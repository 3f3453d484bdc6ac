"""One job being done (`Work`): its rows, settings and storage, its progress, and the results it makes.

Results are files made in a temporary folder and stored through the storage interface only (``write_text``,
``write_file``, ``local_copy``, ``delete``), so any storage backend works; they are recorded with the final
state in one transaction (`Work.finish`), and a second worker finishing the same job keeps the first one's
results. What each job kind does with it is `tasks`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from posecoach.service import job_control, library_db, limits
from posecoach.service.db import DONE, RUNNING, Database, Job, Result, Video, new_id, utcnow
from posecoach.service.settings import Settings
from posecoach.service.storage import Storage

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from posecoach.core.sequence import PoseSequence

# the kinds of result a job stores, with the media type each is served as
MEDIA_TYPES = {"report": "application/json", "poses": "application/octet-stream", "overlay": "video/mp4",
               "side_by_side": "video/mp4", "plot": "image/png", "csv": "text/csv", "series": "application/json"}
SUFFIXES = {"report": ".json", "poses": ".npz", "overlay": ".mp4", "side_by_side": ".mp4", "plot": ".png",
            "csv": ".csv", "series": ".json"}


class JobStopped(Exception):
    """The job is no longer running here (cancelled, its video deleted, or queued again after its lease ran out):
    its worker stops and removes what it stored (`job_control`)."""


class Progress:
    """Writes a job's progress to the database at most every ``every`` seconds; raises JobStopped when the job is
    no longer running (the worker checks at each progress step)."""

    def __init__(self, db: Database, job_id: str, low: float, high: float, every: float = 0.5) -> None:
        self.db, self.job_id, self.low, self.high, self.every = db, job_id, low, high, every
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if total > 0 and (now - self._last >= self.every or done >= total):
            self._last = now
            if not self.db.set_progress(self.job_id, self.low + (self.high - self.low) * done / total):
                raise JobStopped(self.job_id)


@dataclass
class Work:
    """One job being done: its database, storage, settings, rows, and the results made so far (kept in a
    temporary folder until `finish` stores them; on failure everything stored is removed again)."""

    db: Database
    storage: Storage
    settings: Settings
    job: Job
    video: Video
    results: list[Result] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    tmp: Path = field(init=False)
    _poses: dict[str, PoseSequence] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # named after the job, so deleting the job removes what a crashed attempt left here (`lifecycle`)
        self._dir = tempfile.TemporaryDirectory(prefix=f"posecoach-job-{self.job.id}-")
        self.tmp = Path(self._dir.name)

    def __enter__(self) -> Work:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None:
            self.discard()
        self._dir.cleanup()

    @property
    def params(self) -> dict[str, Any]:
        return self.job.parameters()

    def progress(self, low: float, high: float) -> Progress:
        return Progress(self.db, self.job.id, low, high)

    def path(self, kind: str) -> Path:
        """Where to make the file of result ``kind`` (in the temporary folder)."""
        return self.tmp / f"{kind}{SUFFIXES[kind]}"

    def store(self, source: Path, prefix: str = "results", suffix: str | None = None) -> str:
        """Store a local file under a new key (removed again if the job does not finish); the key."""
        key = self.storage.new_key(prefix, suffix or source.suffix, *([self.job.id] if prefix == "results" else []))
        self.keys.append(key)
        self.storage.write_file(key, source)
        return key

    def add(self, kind: str, content: str | Path, **summary: Any) -> None:
        """A result: ``content`` (text, or the file made at `path`) stored as ``kind`` with its summary figures."""
        self.check()
        if isinstance(content, str):
            self.path(kind).write_text(content, encoding="utf-8")
        key = self.store(self.path(kind))
        self.results.append(Result(id=new_id(), job_id=self.job.id, kind=kind, storage_key=key, created_at=utcnow(),
                                   **summary))

    def finish(self, after: Callable[[Session], None] | None = None) -> str:
        """Record the results and the done state at once; another worker's results stored first win, and a job
        cancelled meanwhile stays cancelled (JobStopped)."""
        if not library_db.finish_job(self.db, self.job.id, self.results, after):
            self.discard()
            self.check()
        return DONE

    def check(self) -> None:
        """JobStopped when the job is not running any more (cancelled, deleted): nothing more is stored."""
        if job_control.state_of(self.db, self.job.id) != RUNNING:
            raise JobStopped(self.job.id)

    @contextmanager
    def video_file(self, video: Video) -> Iterator[Path]:
        """A local copy of ``video`` to decode, once its header is checked against the limits on work (`limits`):
        a job never decodes a video over them, even one uploaded before they were lowered."""
        with self.storage.local_copy(video.storage_key) as path:
            limits.check_file(path, self.settings)
            yield path

    def discard(self) -> None:
        for key in self.keys:
            self.storage.delete(key)
        self.keys = []

    def poses(self, video: Video | None = None, low: float = 0.0, high: float = 0.6) -> PoseSequence:
        """The poses of ``video`` (default: the job's): those an earlier job on it stored, else estimated now;
        stored as this job's ``poses`` result when it is the job's video."""
        from posecoach.core.sequence import PoseSequence
        from posecoach.pose.engine import load_sequence

        video = video or self.video
        if video.id in self._poses:
            return self._poses[video.id]
        stored = library_db.stored_poses(self.db, video.id)
        if stored is not None and self.storage.exists(stored):
            with self.storage.local_copy(stored) as path:
                seq = PoseSequence.load(path)
        else:
            with self.video_file(video) as path:
                seq = load_sequence(path, model=self.settings.pose_model, progress=self.progress(low, high),
                                    workers=1)
        if video.id == self.video.id:
            seq.save(self.path("poses"))
            self.add("poses", self.path("poses"))
        self._poses[video.id] = seq
        return seq

    def overlay(self, seq: PoseSequence, low: float, high: float, **options: Any) -> None:
        """The ``overlay`` result: the job's video with ``seq`` drawn (``options`` for `render_overlay`)."""
        from posecoach.render.overlay_video import render_overlay

        if not seq.num_frames:
            return
        with self.video_file(self.video) as path:
            render_overlay(path, seq, self.path("overlay"), workers=1, progress=self.progress(low, high), **options)
        self.add("overlay", self.path("overlay"))
