"""Fall detection in a video or pose sequence: `detect_falls` (`posecoach.detect_falls`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posecoach.analysis.falls.detector import THRESHOLD, detect_sequence
from posecoach.analysis.falls.model import FallModel, default_model
from posecoach.core.sequence import PoseSequence
from posecoach.pose.engine import load_sequence
from posecoach.reports.fall_report import FallReport


def detect_falls(path_or_sequence: str | Path | PoseSequence, *, model: FallModel | None = None,
                 threshold: float = THRESHOLD, pose_model: str = "full", **engine_options: Any) -> FallReport:
    """Falls in a video, image, saved ``.npz`` sequence or `PoseSequence`: ``report.events[]`` (``start_s``,
    ``end_s``, ``confidence``...) and the per-frame probabilities (``report.probabilities``)."""
    seq = load_sequence(path_or_sequence, model=pose_model, **engine_options)
    report = detect_sequence(seq, model or default_model(), threshold=threshold)
    if not isinstance(path_or_sequence, PoseSequence):
        report.input = str(path_or_sequence)
    return report
