"""Overlay decorator for fall detection: the smoothed fall probability as a bar, and a red banner while a
fall event is active (from its alert to its end)."""

from __future__ import annotations

import cv2
import numpy as np

from posecoach.reports.fall_report import FallReport
from posecoach.reports.overlay import OverlayRenderer
from posecoach.reports.overlay_video import FrameDecorator


class FallDecorator(FrameDecorator):
    def __init__(self, report: FallReport) -> None:
        self.smoothed = list(report.smoothed)
        self.alerts = [(e.alert_frame, e.end_frame, e.index) for e in report.events]

    def __call__(self, image: np.ndarray, frame_index: int, renderer: OverlayRenderer) -> np.ndarray:
        h, w = image.shape[:2]
        p = self.smoothed[frame_index] if frame_index < len(self.smoothed) else 0.0
        x0, y0, bw, bh = 10, h - 30, max(60, w // 4), 14
        cv2.rectangle(image, (x0, y0), (x0 + bw, y0 + bh), (60, 60, 60), -1)
        cv2.rectangle(image, (x0, y0), (x0 + int(bw * p), y0 + bh), (230, 60, 50), -1)
        cv2.putText(image, f"fall p={p:.2f}", (x0 + bw + 8, y0 + bh - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (255, 255, 255), 1, cv2.LINE_AA)
        for start, end, index in self.alerts:
            if start <= frame_index <= end:
                cv2.rectangle(image, (0, 0), (w, 34), (220, 30, 30), -1)
                cv2.putText(image, f"FALL {index} DETECTED", (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.75,
                            (255, 255, 255), 2, cv2.LINE_AA)
        return image
