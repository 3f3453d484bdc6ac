"""Fall detection: window features of the pose sequence -> gradient-boosted fall probability per frame ->
sliding average -> event state machine (start, impact, lying duration, recovered). See the manual's page
"Fall detection" and `detector` for the offline and live forms (`posecoach.detect_falls` takes a video)."""

from __future__ import annotations

from posecoach.analysis.falls.detector import THRESHOLD, LiveFallDetector, detect_sequence, webhook_hook
from posecoach.analysis.falls.events import FallEvent
from posecoach.analysis.falls.model import FallModel, TrainConfig, default_model, train_model
from posecoach.reports.fall_report import FallReport

__all__ = ["THRESHOLD", "FallEvent", "FallModel", "FallReport", "LiveFallDetector", "TrainConfig", "default_model",
           "detect_sequence", "train_model", "webhook_hook"]
