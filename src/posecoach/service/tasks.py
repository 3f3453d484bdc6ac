"""What each job kind does: the work of one claimed job, from its stored video to its stored results.

`run` is called by `jobs.execute` after the job was claimed; it returns the job's final state (``done``) or
raises (`PoseCoachError`: the input cannot be analysed; anything else: retried). Each kind is one function
here, so the queue (`jobs.py`) knows nothing about analyses and an analysis knows nothing about queues. The
analyses themselves are the library's (`posecoach.analysis`, `posecoach.reports`), as the CLI uses them.

Results are files made in a temporary folder and stored through the storage interface only (``write_text``,
``write_file``, ``local_copy``, ``delete``), so any storage backend works; they are recorded with the final
state in one transaction, and a second worker finishing the same job keeps the first one's results.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from posecoach.errors import InputError
from posecoach.service import job_control, library_db, limits
from posecoach.service.db import (
    DONE,
    FAILED,
    RUNNING,
    Database,
    Job,
    PostureModel,
    ReferenceGuide,
    Result,
    Video,
    new_id,
    utcnow,
)
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
        from posecoach.analysis.pipeline import load_sequence
        from posecoach.core.sequence import PoseSequence

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
        from posecoach.reports.overlay_video import render_overlay

        if not seq.num_frames:
            return
        with self.video_file(self.video) as path:
            render_overlay(path, seq, self.path("overlay"), workers=1, progress=self.progress(low, high), **options)
        self.add("overlay", self.path("overlay"))


def _pose(w: Work) -> str:
    """Poses only: the PoseSequence (.npz), its landmarks as CSV, a skeleton overlay and a short report."""
    seq = w.poses(high=0.7)
    info = {"input": w.video.filename, "frames": seq.num_frames, "fps": round(seq.fps, 4),
            "duration_s": round(seq.duration, 3), "people": seq.num_people, "subject": seq.subject,
            "detection_rate": round(seq.detection_rate(), 4) if seq.num_people else 0.0,
            "pose_model": w.settings.pose_model}
    w.add("report", json.dumps(info, indent=2))
    seq.to_csv(w.path("csv"))
    w.add("csv", w.path("csv"))
    w.overlay(seq, 0.7, 0.99)
    return w.finish()


def _analyze(w: Work) -> str:
    """Exercise analysis (`posecoach.analyze`): the report, per-rep CSV, the signals plot and the overlay."""
    from posecoach.analysis.pipeline import analyze_sequence
    from posecoach.features.signals import sequence_signals
    from posecoach.reports.analysis_overlay import AnalysisDecorator
    from posecoach.reports.analysis_plot import plot_analysis
    from posecoach.reports.analysis_series import analysis_series
    from posecoach.reports.tables import reps_csv
    from posecoach.service.history import set_range

    seq = w.poses()
    report = analyze_sequence(seq, w.params.get("exercise"))
    report.input.path = w.video.filename  # the name the user gave, never a storage path
    rom, rom_unit = set_range(report)  # History's range of motion over time
    w.add("report", report.to_json(), exercise=report.exercise.name, rep_count=report.reps.count,
          rep_confidence=report.reps.confidence, error_count=report.error_count(), rom=rom, rom_unit=rom_unit)
    w.add("csv", reps_csv(report))
    signals = sequence_signals(seq) if seq.num_people else {}
    plot_analysis(report, signals, seq.timestamps, w.path("plot"))
    w.add("plot", w.path("plot"))
    w.add("series", analysis_series(report, signals, seq.timestamps))
    w.overlay(seq, 0.65, 0.99, decorator=AnalysisDecorator(report, seq.skeleton))
    return w.finish()


def _compare(w: Work) -> str:
    """Comparison with a guide of the library (`posecoach.compare`): report, aligned-angle plot, side by side."""
    from posecoach.analysis.compare import Guide
    from posecoach.comparison import compare_detailed
    from posecoach.core.sequence import PoseSequence
    from posecoach.reports.comparison_plot import plot_comparison
    from posecoach.reports.comparison_video import render_side_by_side

    ref = library_db.load_row(w.db, ReferenceGuide, w.params["reference_id"])
    if ref is None or ref.storage_key is None:
        raise InputError("the reference guide was deleted, or is not ready yet")
    guide = Guide.model_validate_json(ref.guide)
    with w.storage.local_copy(ref.storage_key) as path:
        guide_seq = PoseSequence.load(path)
    report, matched, ref_seq, att_seq = compare_detailed(guide_seq, w.poses(high=0.7), guide=guide,
                                                         mirror=w.params.get("mirror"))
    report.attempt.path = w.video.filename
    w.add("report", report.to_json(), exercise=guide.name, score=report.score, rep_count=report.attempt.reps)
    plot_comparison(report, matched, att_seq.timestamps, w.path("plot"))
    w.add("plot", w.path("plot"))
    if att_seq.num_frames:  # on the real frames: the attempt's, and the guide's while its video is kept
        from contextlib import ExitStack

        source = library_db.load_row(w.db, Video, ref.video_id) if ref.video_id else None
        with ExitStack() as files:
            attempt_path = files.enter_context(w.video_file(w.video))
            guide_path = None
            if source is not None and w.storage.exists(source.storage_key):
                try:
                    guide_path = files.enter_context(w.video_file(source))
                except InputError:  # over today's limits: the guide's stick figure instead
                    guide_path = None
            render_side_by_side(ref_seq, att_seq, report, matched, w.path("side_by_side"), reference_video=guide_path,
                                attempt_video=attempt_path, progress=w.progress(0.7, 0.99))
        w.add("side_by_side", w.path("side_by_side"))
    return w.finish()


def _falls(w: Work) -> str:
    """Fall detection (`posecoach.detect_falls`): report, probability plot, per-frame CSV, and the video with the
    skeleton, the fall probability and each alert drawn (``overlay``, as `posecoach falls --overlay`)."""
    from posecoach.analysis.falls import default_model, detect_sequence
    from posecoach.reports.fall_overlay import FallDecorator
    from posecoach.reports.fall_plot import plot_falls
    from posecoach.reports.tables import falls_csv
    from posecoach.service import alerts_db, alerts_outbox

    seq = w.poses(high=0.6)
    report = detect_sequence(seq, default_model(), threshold=w.params.get("threshold", 0.7))
    report.input = w.video.filename
    w.add("report", report.to_json(), fall_count=len(report.events))
    w.add("csv", falls_csv(report))
    plot_falls(report, w.path("plot"))
    w.add("plot", w.path("plot"))
    w.overlay(seq, 0.65, 0.99, show_angles=False, decorator=FallDecorator(report))
    state = w.finish(alerts_db.job_recorder(w.job.owner_id, w.job.id, w.video.filename, report.events))
    # the alert log first (above), then the webhook (never raises)
    alerts_outbox.deliver_waiting(w.db, w.job.owner_id, w.settings.alert_webhook_allow_private)
    return state


def _posture(w: Work) -> str:
    """Postures per frame with one of the user's posture models: report, per-frame CSV, plot."""
    from posecoach.analysis.posture import PostureClassifier, SmoothingParams
    from posecoach.analysis.posture.pipeline import classify_postures
    from posecoach.reports.posture_plot import plot_postures
    from posecoach.reports.tables import postures_csv

    row = library_db.load_row(w.db, PostureModel, w.params["model_id"])
    if row is None or row.storage_key is None:
        raise InputError("the posture model was deleted, or is not trained yet")
    with w.storage.local_copy(row.storage_key) as path:
        clf = PostureClassifier.load(path)
    count = w.params.get("count")
    try:
        report = classify_postures(w.poses(high=0.8), clf, smoothing=SmoothingParams() if w.params.get("smooth", True)
                                   else None, count=tuple(count) if count else None, model_path=row.name)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    report.input = w.video.filename
    w.add("report", report.to_json(), exercise=row.name,
          rep_count=report.repetitions.count if report.repetitions else None)
    w.add("csv", postures_csv(report))
    plot_postures(report, w.path("plot"))
    w.add("plot", w.path("plot"))
    return w.finish()


def _reference(w: Work) -> str:
    """A guide for the reference library: the poses of the video's subject, stored with the guide."""
    from posecoach.analysis.compare import Guide
    from posecoach.references import guide_sequence

    target = w.params["target_id"]
    row = library_db.load_row(w.db, ReferenceGuide, target)
    if row is None:
        raise InputError("the reference was deleted before it was made")
    seq = guide_sequence(Guide.model_validate_json(row.guide), w.poses(high=0.95))
    seq.save(w.tmp / "guide.npz")
    key = w.store(w.tmp / "guide.npz", prefix="references")
    return w.finish(library_db.complete(ReferenceGuide, target, storage_key=key, frames=seq.num_frames,
                                        duration_s=seq.duration))


def _posture_train(w: Work) -> str:
    """A posture classifier (`posecoach.analysis.posture`) trained on labelled time ranges of the user's videos,
    cross-validated by held-out video (`posture_training`)."""
    from posecoach.service.posture_training import train

    return train(w)


TASKS: dict[str, Callable[[Work], str]] = {
    "pose": _pose, "analyze": _analyze, "compare": _compare, "falls": _falls, "posture": _posture,
    "reference": _reference, "posture_train": _posture_train,
}


def run(db: Database, storage: Storage, settings: Settings, job_id: str) -> str:
    """Do the work of a claimed job; returns the final state."""
    loaded = db.load_job(job_id)
    if loaded is None:
        return FAILED
    job, video = loaded
    task = TASKS.get(job.kind)
    if task is None:
        raise InputError(f"unknown job kind {job.kind!r}")
    with Work(db, storage, settings, job, video) as work:
        return task(work)
