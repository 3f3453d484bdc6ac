"""What each job kind does: the work of one claimed job, from its stored video to its stored results.

`run` is called by `jobs.execute` after the job was claimed; it returns the job's final state (``done``) or
raises (`PoseCoachError`: the input cannot be analysed; anything else: retried). Each kind is one function
here, so the queue (`jobs.py`) knows nothing about analyses and an analysis knows nothing about queues. The
analyses themselves are the library's (`posecoach.analysis`, `posecoach.reports`), as the CLI uses them.

Each function makes its results with the job's `work.Work` (a temporary folder, the storage interface, the
results recorded with the final state in one transaction).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from posecoach.errors import InputError
from posecoach.service import library_db
from posecoach.service.db import FAILED, Database, PostureModel, ReferenceGuide, Video
from posecoach.service.settings import Settings
from posecoach.service.storage import Storage
from posecoach.service.work import Work


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
    from posecoach.render.analysis_overlay import AnalysisDecorator
    from posecoach.render.analysis_plot import plot_analysis
    from posecoach.render.analysis_series import analysis_series
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
    from posecoach.render.comparison_plot import plot_comparison
    from posecoach.render.comparison_video import render_side_by_side

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
    from posecoach.render.fall_overlay import FallDecorator
    from posecoach.render.fall_plot import plot_falls
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
    from posecoach.render.posture_plot import plot_postures
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
