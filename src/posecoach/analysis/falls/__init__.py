"""Fall detection: window features of the pose sequence -> gradient-boosted fall probability per frame ->
sliding average -> event state machine (start, impact, lying duration, recovered). See the README section
"Fall detection" and `detector` for the offline and live forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posecoach.analysis.falls.detector import THRESHOLD, LiveFallDetector, detect_sequence, webhook_hook
from posecoach.analysis.falls.events import FallEvent
from posecoach.analysis.falls.model import FallModel, TrainConfig, default_model, train_model
from posecoach.core.sequence import PoseSequence
from posecoach.reports.fall_report import FallReport

__all__ = ["THRESHOLD", "FallEvent", "FallModel", "FallReport", "LiveFallDetector", "TrainConfig", "default_model",
           "detect_falls", "detect_sequence", "train_model", "webhook_hook"]


def detect_falls(path_or_sequence: str | Path | PoseSequence, *, model: FallModel | None = None,
                 threshold: float = THRESHOLD, pose_model: str = "full", **engine_options: Any) -> FallReport:
    """Falls in a video, image, saved ``.npz`` sequence or `PoseSequence`: ``report.events[]`` (``start_s``,
    ``end_s``, ``confidence``...) and the per-frame probabilities (``report.probabilities``)."""
    from posecoach.analysis.pipeline import load_sequence

    seq = load_sequence(path_or_sequence, model=pose_model, **engine_options)
    report = detect_sequence(seq, model or default_model(), threshold=threshold)
    if not isinstance(path_or_sequence, PoseSequence):
        report.input = str(path_or_sequence)
    return report
