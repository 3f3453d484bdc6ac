"""Fall detection: `FallDetection` (run on a video or sequence, or live) and `detect_falls`
(`posecoach.detect_falls`, its shortcut)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.analysis.falls.detector import THRESHOLD, LiveFallDetector, detect_sequence
from posecoach.analysis.falls.events import FallEvent
from posecoach.analysis.falls.model import FallModel, default_model
from posecoach.core.sequence import PoseSequence
from posecoach.reports.fall_report import FallReport
from posecoach.reports.tables import falls_csv
from posecoach.solutions.base import (
    LiveSession,
    LiveUpdate,
    Result,
    Source,
    load_source,
    nobody_if_none,
    source_path,
)


@dataclass
class FallResult(Result[FallReport]):
    """A `FallReport` with its sequence; CSV: the probability per frame; chart: the probability over time with
    the events; overlay: the video with the skeleton, a probability bar and a banner while a fall is active."""

    def csv(self) -> str:
        return falls_csv(self.report)

    def plot(self, out: Path) -> Path:
        from posecoach.render.fall_plot import plot_falls

        return plot_falls(self.report, out)

    def overlay(self, out: Path, **options: Any) -> Path:
        """``options``: `render_overlay`'s (``workers``, ``progress``, ``pool``...)."""
        from posecoach.render.fall_overlay import FallDecorator
        from posecoach.render.overlay_video import render_overlay

        return render_overlay(self.video(), self.sequence, out, show_angles=False,
                              decorator=FallDecorator(self.report), **options)


class FallDetection:
    """Falls: events (start, alert, impact, time lying, outcome) and the per-frame fall probability.

    ``fall_model``: a trained `FallModel` (default: the shipped one); ``threshold``: the smoothed probability
    that raises an alert; ``model``: the pose model (lite, full, heavy) for a video; ``engine_options`` go to the
    pose engine.
    """

    def __init__(self, fall_model: FallModel | None = None, *, threshold: float = THRESHOLD, model: str = "full",
                 **engine_options: Any) -> None:
        self.fall_model, self.threshold, self.model = fall_model, threshold, model
        self.engine_options = engine_options

    def run(self, source: Source, *, fps: float = 30.0) -> FallResult:
        """Falls in ``source``: a path, a ``(T, K, C)`` landmark array (at ``fps``) or a `PoseSequence`."""
        seq = load_source(source, model=self.model, fps=fps, **self.engine_options)
        report = detect_sequence(seq, self.fall_model or default_model(), threshold=self.threshold)
        path = source_path(source)
        if path is not None:
            report.input = str(path)
        return FallResult(report, seq, path)

    def live(self, *, fps: float = 30.0, width: float = 1.0, height: float = 1.0,
             on_alert: Any = None) -> FallSession:
        """A live session (`LiveFallDetector`) for frames at about ``fps`` of ``width`` x ``height`` pixels;
        ``on_alert(event)`` is called when a fall's alert fires and when its outcome changes."""
        return FallSession(self.fall_model or default_model(), fps=fps, width=width, height=height,
                           threshold=self.threshold, on_alert=on_alert)


@dataclass(frozen=True)
class FallState:
    """The live detector after a frame: the smoothed fall ``probability``, every fall ``events`` so far and the
    event alerted on this frame (``alerted``: its alert fired or its outcome changed), if any."""

    probability: float
    events: tuple[FallEvent, ...]
    alerted: FallEvent | None = None


class FallSession(LiveSession[FallState]):
    """`LiveFallDetector` as a session (``world`` is not used); ``on_alert(event)`` may be set at any time."""

    def __init__(self, fall_model: FallModel, *, fps: float, width: float, height: float, threshold: float,
                 on_alert: Any = None) -> None:
        self._alerted: list[FallEvent] = []
        self.on_alert = on_alert
        self.detector = LiveFallDetector(fall_model, fps=fps, width=width, height=height, threshold=threshold,
                                         on_alert=self._on_alert)
        self._t = 0.0
        self._p = 0.0

    def _on_alert(self, event: FallEvent) -> None:
        self._alerted.append(event)
        if self.on_alert is not None:
            self.on_alert(event)

    def _state(self) -> LiveUpdate[FallState]:
        alerted = self._alerted[-1] if self._alerted else None
        self._alerted.clear()
        state = FallState(self._p, tuple(self.detector.events), alerted)
        text = (alerted.outcome_text if alerted is not None else
                f"fall ({state.events[-1].outcome_text})" if state.events else f"fall probability {self._p:.2f}")
        return LiveUpdate(self._t, state, text, alerted is not None)

    def update(self, landmarks: np.ndarray | None, t: float, world: np.ndarray | None = None,
               ) -> LiveUpdate[FallState]:
        lm = nobody_if_none(landmarks)
        self._p = self.detector.update(lm[:, :4], t)
        self._t = float(t)
        return self._state()

    def finish(self) -> LiveUpdate[FallState]:
        """A drop still waiting for confirmation is alerted, unconfirmed."""
        self.detector.finish()
        return self._state()


def detect_falls(path_or_sequence: str | Path | PoseSequence, *, model: FallModel | None = None,
                 threshold: float = THRESHOLD, pose_model: str = "full", **engine_options: Any) -> FallReport:
    """Falls in a video, image, saved ``.npz`` sequence or `PoseSequence`: ``report.events[]`` (``start_s``,
    ``end_s``, ``confidence``...) and the per-frame probabilities (``report.probabilities``); the report of
    `FallDetection.run` (``model`` here is the fall model, ``pose_model`` the pose model)."""
    return FallDetection(model, threshold=threshold, model=pose_model, **engine_options).run(path_or_sequence).report
