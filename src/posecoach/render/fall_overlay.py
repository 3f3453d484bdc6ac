"""Overlay decorator for fall detection: the smoothed fall probability as a bar, and a red banner while a
fall event is active (from its alert to its end) that says what became of the person: still down, not seen since
the fall (the pose was lost), or got up."""

from __future__ import annotations

import cv2
import numpy as np

from posecoach.analysis.falls.events import LOST_S
from posecoach.render.overlay import OverlayRenderer
from posecoach.render.overlay_video import FrameDecorator
from posecoach.reports.fall_report import FallReport


def probability_shown(p: float) -> float:
    """A probability as drawn: clamped to [0, 1] (smoothing can undershoot to -0.0001, shown "-0.00"); NaN is 0."""
    return min(max(float(p), 0.0), 1.0) + 0.0 if p == p else 0.0  # + 0.0 turns -0.0 into 0.0


class FallDecorator(FrameDecorator):
    def __init__(self, report: FallReport) -> None:
        self.smoothed = list(report.smoothed)
        self.times = list(report.times_s)
        self.alerts = [(e.alert_frame, e.end_frame, e.index, e.outcome, e.seen_s) for e in report.events]

    def __call__(self, image: np.ndarray, frame_index: int, renderer: OverlayRenderer) -> np.ndarray:
        h, w = image.shape[:2]
        p = probability_shown(self.smoothed[frame_index] if frame_index < len(self.smoothed) else 0.0)
        x0, y0, bw, bh = 10, h - 30, max(60, w // 4), 14
        cv2.rectangle(image, (x0, y0), (x0 + bw, y0 + bh), (60, 60, 60), -1)
        cv2.rectangle(image, (x0, y0), (x0 + int(bw * p), y0 + bh), (230, 60, 50), -1)
        cv2.putText(image, f"fall p={p:.2f}", (x0 + bw + 8, y0 + bh - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (255, 255, 255), 1, cv2.LINE_AA)
        for start, end, index, outcome, seen_s in self.alerts:
            if start <= frame_index <= end:
                cv2.rectangle(image, (0, 0), (w, 34), (220, 30, 30), -1)
                cv2.putText(image, f"FALL {index} DETECTED - {self.state(frame_index, end, outcome, seen_s)}",
                            (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (255, 255, 255), 2, cv2.LINE_AA)
        return image

    def state(self, frame_index: int, end: int, outcome: str, seen_s: float | None) -> str:
        """The banner's words on this frame: not seen since the fall once the person was last seen (when the
        event ends lost), got up on its last frame (when it ends so), else still down."""
        t = self.times[frame_index] if frame_index < len(self.times) else None
        if outcome == "lost" and seen_s is not None and t is not None and t > seen_s + LOST_S:
            return "NOT SEEN SINCE THE FALL"
        if outcome == "got_up" and frame_index == end:
            return "GOT UP"
        return "STILL DOWN"
